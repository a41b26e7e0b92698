// Typed wrappers for OpenSSL macros that Swift cannot import.
#ifndef MOJO_COPENSSL_SHIM_H
#define MOJO_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
/* Linux headers Glibc's Swift module does not export; Transport (the only importer) needs them
   and this is the only C module it depends on. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <netdb.h>
#include <pthread.h>

static inline long mojo_SSL_set_tlsext_host_name(SSL *s, const char *name) { return SSL_set_tlsext_host_name(s, name); }
static inline long mojo_SSL_CTX_set_min_proto_version(SSL_CTX *c, int v) { return SSL_CTX_set_min_proto_version(c, v); }
static inline long mojo_SSL_CTX_set_mode(SSL_CTX *c, long m) { return SSL_CTX_set_mode(c, m); }
static inline int mojo_TLS1_2_VERSION(void) { return TLS1_2_VERSION; }
static inline long mojo_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE; }
static inline long mojo_SSL_set1_host_or_ip(SSL *s, const char *name, int isIP) {
    if (isIP) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), name);
    return SSL_set1_host(s, name);
}
/* accept4(2) is a GNU extension hidden without _GNU_SOURCE: bound to glibc's symbol by name. */
extern int mojo_accept4(int fd, struct sockaddr *addr, socklen_t *length, int flags) __asm__("accept4");
static inline int mojo_ERR_GET_REASON(unsigned long e) { return ERR_GET_REASON(e); }
#endif
