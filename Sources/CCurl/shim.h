// libcurl's declarations, and the table its entry points are reached through. Nothing links
// against libcurl: Sources/Curl/LibCurl.swift opens libcurl.so.4 with dlopen on first use and
// fills a `mojo_libcurl` with `mojo_libcurl_resolve`.
#ifndef MOJO_CCURL_SHIM_H
#define MOJO_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>

/// The libcurl functions the Curl module calls, typed from <curl/curl.h>.
typedef struct {
    __typeof__(curl_global_init) *_Nonnull global_init;
    __typeof__(curl_easy_init) *_Nonnull easy_init;
    __typeof__(curl_easy_cleanup) *_Nonnull easy_cleanup;
    __typeof__(curl_easy_reset) *_Nonnull easy_reset;
    __typeof__(curl_easy_strerror) *_Nonnull easy_strerror;
    __typeof__(curl_multi_init) *_Nonnull multi_init;
    __typeof__(curl_multi_cleanup) *_Nonnull multi_cleanup;
    __typeof__(curl_multi_add_handle) *_Nonnull multi_add_handle;
    __typeof__(curl_multi_remove_handle) *_Nonnull multi_remove_handle;
    __typeof__(curl_multi_socket_action) *_Nonnull multi_socket_action;
    __typeof__(curl_multi_info_read) *_Nonnull multi_info_read;
    __typeof__(curl_multi_strerror) *_Nonnull multi_strerror;
    __typeof__(curl_slist_append) *_Nonnull slist_append;
    __typeof__(curl_slist_free_all) *_Nonnull slist_free_all;
    // Variadic, which Swift cannot call: reached only through the typed helpers below.
    void *_Nonnull easy_setopt;
    void *_Nonnull easy_getinfo;
    void *_Nonnull multi_setopt;
} mojo_libcurl;

/// Resolves every entry of `api` in `library` (a dlopen handle). Returns NULL, or the name of
/// the first symbol that is missing (`api` is then incomplete and must not be used).
static inline const char *mojo_libcurl_resolve(void *library, mojo_libcurl *api) {
#define MOJO_RESOLVE(field, symbol) \
    if (!(*(void **)&api->field = dlsym(library, #symbol))) return #symbol;
    MOJO_RESOLVE(global_init, curl_global_init)
    MOJO_RESOLVE(easy_init, curl_easy_init)
    MOJO_RESOLVE(easy_cleanup, curl_easy_cleanup)
    MOJO_RESOLVE(easy_reset, curl_easy_reset)
    MOJO_RESOLVE(easy_strerror, curl_easy_strerror)
    MOJO_RESOLVE(multi_init, curl_multi_init)
    MOJO_RESOLVE(multi_cleanup, curl_multi_cleanup)
    MOJO_RESOLVE(multi_add_handle, curl_multi_add_handle)
    MOJO_RESOLVE(multi_remove_handle, curl_multi_remove_handle)
    MOJO_RESOLVE(multi_socket_action, curl_multi_socket_action)
    MOJO_RESOLVE(multi_info_read, curl_multi_info_read)
    MOJO_RESOLVE(multi_strerror, curl_multi_strerror)
    MOJO_RESOLVE(slist_append, curl_slist_append)
    MOJO_RESOLVE(slist_free_all, curl_slist_free_all)
    MOJO_RESOLVE(easy_setopt, curl_easy_setopt)
    MOJO_RESOLVE(easy_getinfo, curl_easy_getinfo)
    MOJO_RESOLVE(multi_setopt, curl_multi_setopt)
#undef MOJO_RESOLVE
    return NULL;
}

// Typed wrappers for the variadic entry points, one per argument type.
#define MOJO_SETOPT(api) ((__typeof__(curl_easy_setopt) *)(api)->easy_setopt)
#define MOJO_GETINFO(api) ((__typeof__(curl_easy_getinfo) *)(api)->easy_getinfo)
#define MOJO_MULTI_SETOPT(api) ((__typeof__(curl_multi_setopt) *)(api)->multi_setopt)
static inline CURLcode mojo_curl_setopt_long(const mojo_libcurl *api, CURL *h, CURLoption o, long v) { return MOJO_SETOPT(api)(h, o, v); }
static inline CURLcode mojo_curl_setopt_ptr(const mojo_libcurl *api, CURL *h, CURLoption o, void *v) { return MOJO_SETOPT(api)(h, o, v); }
static inline CURLcode mojo_curl_setopt_str(const mojo_libcurl *api, CURL *h, CURLoption o, const char *v) { return MOJO_SETOPT(api)(h, o, v); }
static inline CURLcode mojo_curl_setopt_slist(const mojo_libcurl *api, CURL *h, CURLoption o, struct curl_slist *v) { return MOJO_SETOPT(api)(h, o, v); }
static inline CURLcode mojo_curl_setopt_off(const mojo_libcurl *api, CURL *h, CURLoption o, curl_off_t v) { return MOJO_SETOPT(api)(h, o, v); }
static inline CURLcode mojo_curl_setopt_write(const mojo_libcurl *api, CURL *h, CURLoption o, size_t (*cb)(char *, size_t, size_t, void *)) { return MOJO_SETOPT(api)(h, o, cb); }
/// CURLOPT_OPENSOCKETFUNCTION with a typed callback.
static inline CURLcode mojo_curl_setopt_opensocket(const mojo_libcurl *api, CURL *h, curl_socket_t (*cb)(void *, curlsocktype, struct curl_sockaddr *)) {
    return MOJO_SETOPT(api)(h, CURLOPT_OPENSOCKETFUNCTION, cb);
}
static inline CURLcode mojo_curl_getinfo_long(const mojo_libcurl *api, CURL *h, CURLINFO i, long *v) { return MOJO_GETINFO(api)(h, i, v); }
static inline CURLMcode mojo_curl_multi_setopt_ptr(const mojo_libcurl *api, CURLM *m, CURLMoption o, void *v) { return MOJO_MULTI_SETOPT(api)(m, o, v); }
static inline CURLMcode mojo_curl_multi_setopt_socketfn(const mojo_libcurl *api, CURLM *m, int (*cb)(CURL *, curl_socket_t, int, void *, void *)) {
    return MOJO_MULTI_SETOPT(api)(m, CURLMOPT_SOCKETFUNCTION, cb);
}
static inline CURLMcode mojo_curl_multi_setopt_timerfn(const mojo_libcurl *api, CURLM *m, int (*cb)(CURLM *, long, void *)) {
    return MOJO_MULTI_SETOPT(api)(m, CURLMOPT_TIMERFUNCTION, cb);
}
#undef MOJO_SETOPT
#undef MOJO_GETINFO
#undef MOJO_MULTI_SETOPT

static inline curl_socket_t mojo_CURL_SOCKET_TIMEOUT(void) { return CURL_SOCKET_TIMEOUT; }
static inline long mojo_CURL_HTTP_VERSION_1_1(void) { return CURL_HTTP_VERSION_1_1; }
static inline CURLcode mojo_curl_msg_result(const CURLMsg *m) { return m->data.result; }
static inline int mojo_curl_msg_is_done(const CURLMsg *m) { return m->msg == CURLMSG_DONE; }
#endif
