import Diagnostics

/// A request that produced no response: connection, TLS, timeout, size limit or invalid input.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The `CURLcode` (e.g. 7 couldn't connect, 28 timeout, 60 certificate, 63 too large).
    public var code: Int32
    /// `curl_easy_strerror` text plus libcurl's detail (`CURLOPT_ERRORBUFFER`).
    public var message: String
    /// The request URL.
    public var url: String

    /// Creates an error.
    public init(code: Int32, message: String, url: String) {
        self.code = code
        self.message = message
        self.url = url
    }

    /// `"<url>: <message> (curl <code>)"`, the URL without its query and with secret-looking
    /// path segments masked (``URLRedaction``): this text reaches logs and the spool.
    public var description: String {
        "\(URLRedaction.redact(url)): \(message) (curl \(code))"
    }
}
