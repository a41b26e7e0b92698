import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// libcurl, opened with `dlopen` on the first request instead of linked.
///
/// Linked, libcurl and the ~25 libraries it needs (gnutls, krb5, ldap, ssh2, rtmp, ...) are mapped
/// and their constructors run at exec, and `curl_global_init` initialises OpenSSL: ~6 MiB resident
/// in a daemon that only uses WebSocket. Loaded here, only the polling transport and webhook sinks
/// pay for it. Opened, resolved and initialised once per process; every libcurl call in this
/// module goes through a `LibCurl` (plain functions as members, variadic ones through the
/// `mojo_curl_*` helpers of CCurl, which take `api`).
@dynamicMemberLookup
struct LibCurl: @unchecked Sendable {
    // Sendable: `api` is written once, before any `LibCurl` exists, and never freed or changed.
    /// The resolved entry points; libcurl stays loaded for the life of the process.
    let api: UnsafePointer<mojo_libcurl>

    /// A libcurl function, e.g. `curl.easy_init()`.
    subscript<Function>(dynamicMember entry: KeyPath<mojo_libcurl, Function>) -> Function {
        api.pointee[keyPath: entry]
    }

    /// The process's libcurl; the first call loads it (Swift initialises the static once,
    /// thread-safely), later ones return it or the same error.
    static func shared() throws(HTTPError) -> LibCurl { try loaded.get() }

    private static let loaded = Result { () throws(HTTPError) in try load("libcurl.so.4") }

    /// Opens `library`, resolves the entry points and runs `curl_global_init`.
    static func load(_ library: String) throws(HTTPError) -> LibCurl {
        func failure(_ reason: String) -> HTTPError {
            HTTPError(code: Int32(CURLE_FAILED_INIT.rawValue),
                      message: "\(library) could not be loaded (\(reason)): install libcurl4 for the polling transport and webhook sinks",
                      url: "")
        }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw failure(dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        let api = UnsafeMutablePointer<mojo_libcurl>.allocate(capacity: 1)
        if let missing = mojo_libcurl_resolve(handle, api) {
            api.deallocate()
            dlclose(handle)
            throw failure("no symbol \(String(cString: missing))")
        }
        let curl = LibCurl(api: api)
        let rc = curl.global_init(Int(CURL_GLOBAL_DEFAULT))
        guard rc == CURLE_OK else {
            let error = HTTPError(code: Int32(rc.rawValue), message: "curl_global_init: " + curl.message(rc), url: "")
            api.deallocate()
            dlclose(handle)
            throw error
        }
        return curl
    }

    /// `curl_easy_strerror(code)`.
    func message(_ code: CURLcode) -> String {
        self.easy_strerror(code).map { String(cString: $0) } ?? "CURLcode \(code.rawValue)"
    }

    /// `curl_multi_strerror(code)`.
    func message(_ code: CURLMcode) -> String {
        self.multi_strerror(code).map { String(cString: $0) } ?? "CURLMcode \(code.rawValue)"
    }
}
