// Typed wrappers for libcurl's variadic entry points, which Swift cannot call directly.
#ifndef MOJO_CCURL_SHIM_H
#define MOJO_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode mojo_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mojo_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mojo_curl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mojo_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mojo_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mojo_curl_setopt_write(CURL *h, CURLoption o, size_t (*cb)(char *, size_t, size_t, void *)) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode mojo_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mojo_curl_getinfo_str(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mojo_curl_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mojo_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode mojo_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode mojo_curl_multi_setopt_ptr(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode mojo_curl_multi_setopt_socketfn(CURLM *m, int (*cb)(CURL *, curl_socket_t, int, void *, void *)) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, cb); }
static inline CURLMcode mojo_curl_multi_setopt_timerfn(CURLM *m, int (*cb)(CURLM *, long, void *)) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, cb); }
static inline curl_socket_t mojo_CURL_SOCKET_TIMEOUT(void) { return CURL_SOCKET_TIMEOUT; }
static inline long mojo_CURL_HTTP_VERSION_1_1(void) { return CURL_HTTP_VERSION_1_1; }
static inline CURLcode mojo_curl_msg_result(const CURLMsg *m) { return m->data.result; }
static inline int mojo_curl_msg_is_done(const CURLMsg *m) { return m->msg == CURLMSG_DONE; }
/// CURLOPT_OPENSOCKETFUNCTION with a typed callback.
static inline CURLcode mojo_curl_setopt_opensocket(CURL *h, curl_socket_t (*cb)(void *, curlsocktype, struct curl_sockaddr *)) {
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, cb);
}
#endif
