/// An Engine.IO protocol violation or a refused operation.
public enum EngineIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A frame or payload segment with no bytes.
    case emptyPacket
    /// A packet type byte outside `0`...`6`.
    case unknownPacketType(UInt8)
    /// An open packet whose JSON is malformed or misses a required field.
    case invalidOpen(String)
    /// A `b`-prefixed polling segment whose base64 is malformed, at the given byte offset of the body.
    case invalidBase64(offset: Int)
    /// An outgoing packet of `size` bytes exceeds the server's `maxPayload`.
    case payloadTooLarge(size: Int, maxPayload: Int)
    /// An operation that needs an open session was attempted before the open packet or after close.
    case notOpen
    /// The upgrade flow was asked for something it cannot do now (for example a second probe).
    case invalidUpgrade(String)

    /// A one-line human description.
    public var description: String {
        switch self {
        case .emptyPacket: return "Engine.IO: empty packet"
        case .unknownPacketType(let b):
            let shown = (0x21...0x7E).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "0x\(String(b, radix: 16))"
            return "Engine.IO: unknown packet type \(shown)"
        case .invalidOpen(let why): return "Engine.IO: invalid open packet: \(why)"
        case .invalidBase64(let offset): return "Engine.IO: invalid base64 at offset \(offset) of the polling payload"
        case .payloadTooLarge(let size, let max): return "Engine.IO: packet of \(size) bytes exceeds maxPayload \(max)"
        case .notOpen: return "Engine.IO: session is not open"
        case .invalidUpgrade(let why): return "Engine.IO: invalid upgrade: \(why)"
        }
    }
}
