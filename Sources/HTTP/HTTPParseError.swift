/// Why a request could not be parsed. Each case maps to the status the server answers with
/// (`status`) before closing the connection; the parser stays failed after throwing one.
public enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request line and headers exceed the head limit (431).
    case headTooLarge(limit: Int)
    /// The declared or decoded body exceeds the body limit (413).
    case bodyTooLarge(limit: Int)
    /// The request line is not `method SP target SP version` (400).
    case malformedRequestLine
    /// The request target has a form or characters the server does not accept (400).
    case invalidTarget
    /// A well-formed HTTP version other than 1.0 and 1.1 (505).
    case unsupportedVersion(String)
    /// A line ended with LF alone, or a CR stood alone inside a line (400).
    case bareLineFeed
    /// A header line started with whitespace: obsolete line folding (400).
    case obsoleteLineFolding
    /// A header name is empty, has a non-token character or whitespace before the colon, or
    /// the line has no colon at all (400).
    case invalidHeaderName
    /// A header value holds a control character (400).
    case invalidHeaderValue(name: String)
    /// HTTP/1.1 without exactly one `Host` header, or several in HTTP/1.0 (400).
    case invalidHost
    /// `Content-Length` is not a decimal number (400).
    case invalidContentLength
    /// Several `Content-Length` values that differ (400).
    case conflictingContentLength
    /// Both `Content-Length` and `Transfer-Encoding` (a request-smuggling shape) (400).
    case contentLengthWithTransferEncoding
    /// A transfer coding the server does not decode, such as `gzip, chunked` (501).
    case unsupportedTransferEncoding(String)
    /// `chunked` is not the last coding, or `Transfer-Encoding` in an HTTP/1.0 request (400).
    case invalidTransferEncoding
    /// A chunk-size line or chunk framing is malformed (400).
    case invalidChunk

    /// The status code the server should answer with.
    public var status: Int {
        switch self {
        case .headTooLarge: return 431
        case .bodyTooLarge: return 413
        case .unsupportedVersion: return 505
        case .unsupportedTransferEncoding: return 501
        default: return 400
        }
    }

    /// A short human-readable reason, safe to send back to the client.
    public var description: String {
        switch self {
        case .headTooLarge(let limit): return "request head larger than \(limit) bytes"
        case .bodyTooLarge(let limit): return "request body larger than \(limit) bytes"
        case .malformedRequestLine: return "malformed request line"
        case .invalidTarget: return "invalid request target"
        case .unsupportedVersion(let version): return "unsupported HTTP version \(version)"
        case .bareLineFeed: return "line not terminated by CRLF"
        case .obsoleteLineFolding: return "obsolete line folding"
        case .invalidHeaderName: return "invalid header name"
        case .invalidHeaderValue(let name): return "invalid value for header \(name)"
        case .invalidHost: return "HTTP/1.1 request without exactly one Host header"
        case .invalidContentLength: return "invalid Content-Length"
        case .conflictingContentLength: return "conflicting Content-Length values"
        case .contentLengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .unsupportedTransferEncoding(let coding): return "unsupported transfer coding \(coding)"
        case .invalidTransferEncoding: return "invalid Transfer-Encoding"
        case .invalidChunk: return "malformed chunked body"
        }
    }
}
