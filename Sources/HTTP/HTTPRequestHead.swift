/// The request line and header section of one HTTP/1.1 request, as parsed by `HTTPRequestParser`.
///
/// Header names keep the client's spelling and order; look them up with `header(_:)`, which
/// compares case-insensitively. `path` and `query` are derived from `target`.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive as sent (`"GET"`, `"POST"`, ...).
    public var method: String
    /// The request target exactly as sent: origin form (`/a/b?x=1`), absolute form
    /// (`http://host/a`) or `*`.
    public var target: String
    /// The percent-decoded path of the target, without the query (`"*"` for the asterisk form,
    /// `"/"` for an absolute form with no path).
    public var path: String
    /// The query's `name=value` pairs in order, `+` and percent escapes decoded. A pair without
    /// `=` has an empty value.
    public var query: [(String, String)]
    /// The protocol version.
    public var version: HTTPVersion
    /// Header fields in arrival order, values with surrounding whitespace trimmed.
    public var headers: [(name: String, value: String)]

    /// Creates a head; `path` and `query` are computed from `target`.
    public init(method: String, target: String, version: HTTPVersion = .http11,
                headers: [(name: String, value: String)] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        (path, query) = HTTPTarget.split(target)
    }

    /// The first value of the header `name` (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { ASCIICase.equal($0.name, name) }?.value
    }

    /// Every value of the header `name` (case-insensitive), in order.
    public func headers(named name: String) -> [String] {
        headers.filter { ASCIICase.equal($0.name, name) }.map(\.value)
    }

    /// Whether a comma-separated header (such as `Connection`) lists `token`, case-insensitively.
    public func headerContainsToken(_ name: String, _ token: String) -> Bool {
        headers(named: name).contains { value in
            value.split(separator: ",").contains { ASCIICase.equal(trimOWS($0), token) }
        }
    }

    /// Whether the connection may stay open after this request: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        switch version {
        case .http11: return !headerContainsToken("Connection", "close")
        case .http10: return headerContainsToken("Connection", "keep-alive") && !headerContainsToken("Connection", "close")
        }
    }

    /// Whether the client asked for `100 Continue` before sending its body.
    public var expectsContinue: Bool {
        version == .http11 && header("Expect").map { ASCIICase.equal($0, "100-continue") } == true
    }

    public static func == (lhs: HTTPRequestHead, rhs: HTTPRequestHead) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.version == rhs.version
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// The HTTP versions the server speaks.
public enum HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    /// HTTP/1.0: the connection closes after the response unless the client asked otherwise.
    case http10
    /// HTTP/1.1: persistent connections by default.
    case http11

    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    public var description: String {
        self == .http10 ? "HTTP/1.0" : "HTTP/1.1"
    }
}

/// One complete request: head and (de-chunked) body.
public struct HTTPServerRequest: Sendable, Equatable {
    /// Request line and headers.
    public var head: HTTPRequestHead
    /// The body bytes (empty when the request has none).
    public var body: [UInt8]

    /// Creates a request.
    public init(head: HTTPRequestHead, body: [UInt8] = []) {
        self.head = head
        self.body = body
    }

    /// Shorthand for `head.keepAlive`.
    public var keepAlive: Bool { head.keepAlive }
}

/// ASCII-only case folding, so header lookups never depend on Unicode rules.
enum ASCIICase {
    static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    static func equal(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }
}

/// Trims spaces and tabs (HTTP's optional whitespace) from both ends.
func trimOWS(_ text: some StringProtocol) -> Substring {
    let string = Substring(text)
    let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = string.firstIndex(where: { !isOWS($0) }),
          let last = string.lastIndex(where: { !isOWS($0) }) else { return "" }
    return string[first...last]
}
