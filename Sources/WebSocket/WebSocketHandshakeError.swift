/// Why an opening handshake (RFC 6455 §4.1) could not be built or was refused.
public enum WebSocketHandshakeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The response head is not valid HTTP/1.1; carries what was wrong.
    case malformedResponse(String)
    /// The response head exceeded the parser's limit before its blank line.
    case headTooLarge
    /// The server answered with a status other than 101; carries status and reason phrase.
    case unexpectedStatus(Int, String)
    /// The response lacks `Upgrade: websocket`.
    case missingUpgrade
    /// The response's `Connection` header lacks the `upgrade` token.
    case missingConnection
    /// `Sec-WebSocket-Accept` is missing or does not match the key we sent.
    case badAccept
    /// The server selected an extension we did not offer; carries the header value.
    case unsupportedExtension(String)
    /// The server selected a subprotocol we did not offer; carries the header value.
    case unsupportedProtocol(String)
    /// A request field would break the request (CR, LF or NUL in a header, a bad key length);
    /// carries which field. Thrown by ``WebSocketHandshakeRequest/init(host:path:key:origin:extraHeaders:)``.
    case invalidRequest(String)

    /// A short human-readable explanation for logs.
    public var description: String {
        switch self {
        case .malformedResponse(let detail): "malformed handshake response: \(detail)"
        case .headTooLarge: "handshake response head too large"
        case .unexpectedStatus(let status, let reason): "handshake refused: HTTP \(status) \(reason)"
        case .missingUpgrade: "handshake response lacks 'Upgrade: websocket'"
        case .missingConnection: "handshake response lacks 'Connection: upgrade'"
        case .badAccept: "handshake response has a wrong or missing Sec-WebSocket-Accept"
        case .unsupportedExtension(let value): "server selected an extension we did not offer: \(value)"
        case .unsupportedProtocol(let value): "server selected a subprotocol we did not offer: \(value)"
        case .invalidRequest(let field): "invalid handshake request field: \(field)"
        }
    }
}
