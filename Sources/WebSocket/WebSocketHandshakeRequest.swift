/// The client's opening handshake request (RFC 6455 §4.1).
///
/// Build it with a fresh random 16-byte key, send ``encoded()``, parse the answer with
/// ``HTTPResponseHeadParser`` and check it with ``validate(_:)``.
public struct WebSocketHandshakeRequest: Sendable {
    /// The `Host` header value, including `:port` when it is not the scheme's default.
    public let host: String
    /// The request target: path and query.
    public let path: String
    /// The 16 random key bytes.
    public let key: [UInt8]
    /// The `Origin` header value, if any.
    public let origin: String?
    /// Further headers sent as given, after the WebSocket ones.
    public let extraHeaders: [(String, String)]

    /// The GUID RFC 6455 §1.3 appends to the key before hashing.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Creates a request.
    /// - Throws: ``WebSocketHandshakeError/invalidRequest(_:)`` when `key` is not 16 bytes, `path`
    ///   does not start with `/` or holds a space or control character, or any header name or value
    ///   holds CR, LF or NUL (header injection), or a header name is empty or holds a colon or space.
    public init(
        host: String,
        path: String,
        key: [UInt8],
        origin: String? = nil,
        extraHeaders: [(String, String)] = []
    ) throws(WebSocketHandshakeError) {
        guard key.count == 16 else { throw .invalidRequest("key must be 16 bytes") }
        guard path.utf8.first == UInt8(ascii: "/"), !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .invalidRequest("path")
        }
        guard !host.isEmpty, Self.isSafeValue(host) else { throw .invalidRequest("host") }
        if let origin, !Self.isSafeValue(origin) { throw .invalidRequest("origin") }
        for (name, value) in extraHeaders {
            guard !name.isEmpty, !name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: ":") }) else {
                throw .invalidRequest("header name \(name)")
            }
            guard Self.isSafeValue(value) else { throw .invalidRequest("header \(name)") }
        }
        self.host = host
        self.path = path
        self.key = key
        self.origin = origin
        self.extraHeaders = extraHeaders
    }

    /// A header value must not end the header line early.
    private static func isSafeValue(_ value: String) -> Bool {
        !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    /// The `Sec-WebSocket-Key` value: base64 of ``key``.
    public var secKey: String { Base64.encode(key) }

    /// The `Sec-WebSocket-Accept` value a conforming server must answer:
    /// base64(SHA-1(secKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
    public var expectedAccept: String {
        Base64.encode(SHA1.hash(Array((secKey + Self.acceptGUID).utf8)))
    }

    /// The request head, ending with the blank line.
    public func encoded() -> [UInt8] {
        var text = "GET \(path) HTTP/1.1\r\n"
        text += "Host: \(host)\r\n"
        text += "Upgrade: websocket\r\n"
        text += "Connection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(secKey)\r\n"
        text += "Sec-WebSocket-Version: 13\r\n"
        if let origin { text += "Origin: \(origin)\r\n" }
        for (name, value) in extraHeaders { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The values of an extra header we send, split at commas (e.g. offered subprotocols).
    func offeredTokens(_ name: String) -> [Substring] {
        extraHeaders.filter { ASCII.equalsIgnoringCase($0.0, name) }.flatMap { ASCII.tokens($0.1) }
    }
}
