import Transport

/// Why a connection to MOJO failed or ended, in the words an operator needs: the peer and the reason.
public enum ConnectionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// DNS, refused, unreachable, timed out, TLS or socket error, with the peer.
    case transport(TransportError)
    /// The server answered an HTTP request (WebSocket upgrade or polling) with an error status.
    case httpStatus(peer: String, status: Int, detail: String)
    /// The WebSocket upgrade response was not valid.
    case handshake(peer: String, detail: String)
    /// The server sent bytes that break the WebSocket, Engine.IO or Socket.IO protocol.
    case protocolViolation(peer: String, detail: String)
    /// The server refused the credentials (CONNECT_ERROR), with its message.
    case authRefused(message: String)
    /// No token could be had for this attempt.
    case token(TokenError)
    /// Nothing arrived for pingInterval + pingTimeout.
    case pingTimeout(peer: String, milliseconds: Int)
    /// The server closed the connection or disconnected the socket.
    case closedByServer(peer: String, detail: String)
    /// An outgoing packet was larger than the server's maxPayload.
    case payloadTooLarge(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .transport(let e): e.description
        case .httpStatus(let peer, let status, let detail): "\(peer): HTTP \(status)" + (detail.isEmpty ? "" : " \(detail)")
        case .handshake(let peer, let detail): "\(peer): WebSocket upgrade failed: \(detail)"
        case .protocolViolation(let peer, let detail): "\(peer): malformed data from server: \(detail)"
        case .authRefused(let message): isNamespaceRefusal ? "namespace refused by server: \(message)" : "authentication refused by server: \(message)"
        case .token(let e): e.description
        case .pingTimeout(let peer, let ms): "\(peer): no data for \(ms) ms (ping timeout)"
        case .closedByServer(let peer, let detail): "\(peer): closed by server" + (detail.isEmpty ? "" : ": \(detail)")
        case .payloadTooLarge(let bytes, let limit): "packet of \(bytes) bytes exceeds the server's maxPayload of \(limit) bytes"
        }
    }

    /// Whether retrying later may help; auth and token failures are retried too (a daemon never
    /// gives up), but with a longer delay.
    public var isAuthProblem: Bool {
        switch self {
        case .authRefused, .token: true
        default: false
        }
    }
}
