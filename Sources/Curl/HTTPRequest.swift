/// An HTTP/1.1 request for `CurlMulti.perform`.
public struct HTTPRequest: Sendable {
    /// The method token, e.g. `"GET"` or `"POST"`.
    public var method: String
    /// Absolute `http://` or `https://` URL.
    public var url: String
    /// Extra header fields, sent in order. Names and values must not contain CR, LF or NUL
    /// (names not `:` either): such a request fails instead of being sent.
    public var headers: [(String, String)]
    /// The request body (sent for POST and custom methods; must be empty for GET).
    public var body: [UInt8]
    /// Limit for DNS + TCP + TLS setup, in milliseconds.
    public var connectTimeoutMs: Int
    /// Limit for the whole transfer, in milliseconds. Always set one: a server may never answer.
    public var timeoutMs: Int
    /// PEM bundle of trusted CAs; `nil` uses the system store.
    public var caFile: String?
    /// Verify the server's certificate and name (HTTPS). Turning this off is for tests only.
    public var verifyPeer: Bool
    /// Follow 3xx redirects (at most 5, http/https only). Off by default.
    public var followRedirects: Bool
    /// A response body larger than this fails the request with an `HTTPError`.
    public var maxResponseBytes: Int
    /// Which addresses the request may connect to (default any; webhooks use `.publicOnly`
    /// unless the sink allows private destinations).
    public var addressPolicy: AddressPolicy = .any

    /// Creates a request; the defaults are a GET with a 10 s connect and 60 s total timeout.
    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8] = [],
                connectTimeoutMs: Int = 10_000, timeoutMs: Int = 60_000, caFile: String? = nil,
                verifyPeer: Bool = true, followRedirects: Bool = false, maxResponseBytes: Int = 16 << 20) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.caFile = caFile
        self.verifyPeer = verifyPeer
        self.followRedirects = followRedirects
        self.maxResponseBytes = maxResponseBytes
    }

    /// Why the request cannot be sent as is, if it cannot (header injection, bad method).
    var validationFailure: String? {
        let token = method.utf8
        if token.isEmpty || !token.allSatisfy({ $0 > 32 && $0 < 127 && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }) {
            return "invalid HTTP method \(method.debugDescription)"
        }
        if method == "GET" && !body.isEmpty { return "a GET request cannot carry a body" }
        for (name, value) in headers {
            if name.isEmpty || name.utf8.contains(where: { $0 <= 32 || $0 == 58 || $0 == 127 }) {
                return "invalid header name \(name.debugDescription)"
            }
            if value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
                return "header \(name) has CR, LF or NUL in its value"
            }
        }
        return nil
    }
}
