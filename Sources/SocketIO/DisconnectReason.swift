/// Why a Socket.IO session ended, with the reason strings of the JavaScript client.
public enum DisconnectReason: Sendable, Equatable, CustomStringConvertible {
    /// The server sent DISCONNECT (`io server disconnect`); the session cannot be recovered.
    case serverDisconnect
    /// This client disconnected on purpose (`io client disconnect`).
    case clientDisconnect
    /// Nothing arrived within pingInterval + pingTimeout (`ping timeout`).
    case pingTimeout
    /// The transport closed cleanly, or the server sent an Engine.IO close (`transport close`).
    case transportClose
    /// The transport failed (`transport error`), with the I/O layer's message.
    case transportError(String)
    /// The peer sent something undecodable (`parse error`), with the decoder's message.
    case parseError(String)

    /// Whether the client may reconnect and ask to recover the session afterwards
    /// (the server keeps session state only when the link was lost, not when either side left).
    public var allowsRecovery: Bool {
        switch self {
        case .serverDisconnect, .clientDisconnect: return false
        case .pingTimeout, .transportClose, .transportError, .parseError: return true
        }
    }

    /// The JavaScript client's reason string, plus detail where there is one.
    public var description: String {
        switch self {
        case .serverDisconnect: return "io server disconnect"
        case .clientDisconnect: return "io client disconnect"
        case .pingTimeout: return "ping timeout"
        case .transportClose: return "transport close"
        case .transportError(let detail): return "transport error: \(detail)"
        case .parseError(let detail): return "parse error: \(detail)"
        }
    }
}
