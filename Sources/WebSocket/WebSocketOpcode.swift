/// The opcode of a WebSocket frame (RFC 6455 §5.2).
///
/// Only the opcodes RFC 6455 defines are representable; the reserved opcodes 3-7 and 11-15 are
/// rejected by ``WebSocketFrameParser`` with ``WebSocketProtocolError/reservedOpcode(_:)``.
public enum WebSocketOpcode: UInt8, Sendable {
    /// A continuation fragment of a data message.
    case continuation = 0
    /// The first (or only) frame of a UTF-8 text message.
    case text = 1
    /// The first (or only) frame of a binary message.
    case binary = 2
    /// A close control frame.
    case close = 8
    /// A ping control frame.
    case ping = 9
    /// A pong control frame.
    case pong = 10

    /// Whether this is a control opcode (close, ping, pong): at most 125 bytes, never fragmented.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}
