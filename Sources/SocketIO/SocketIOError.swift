import JSON

/// A Socket.IO v5 packet that violates the protocol.
public enum SocketIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A packet with no bytes.
    case emptyPacket
    /// A packet type byte outside `0`...`6`.
    case unknownPacketType(UInt8)
    /// A binary packet whose attachment count is missing, not decimal, not followed by `-`, or too large.
    case invalidAttachments
    /// An acknowledgement id that is too large (above 2^53 - 1, JavaScript's safe integers).
    case invalidAckId
    /// A namespace that is not valid UTF-8.
    case invalidNamespace
    /// The payload is not valid JSON.
    case invalidJSON(JSONError)
    /// The payload is valid JSON but not what the packet type requires (the reason says what).
    case invalidPayload(String)
    /// An event named like one of Socket.IO's reserved events (`connect`, `disconnect`, …).
    case reservedEventName(String)
    /// A binary attachment arrived while no binary packet was being reassembled.
    case unexpectedBinary
    /// A text packet arrived while a binary packet still waited for attachments.
    case unexpectedText
    /// A `{"_placeholder":true,"num":N}` whose `num` is missing or out of range.
    case invalidPlaceholder
    /// A binary packet announced more attachments than the reassembler allows.
    case tooManyAttachments(Int)

    /// A one-line human description.
    public var description: String {
        switch self {
        case .emptyPacket: return "Socket.IO: empty packet"
        case .unknownPacketType(let b):
            let shown = (0x21...0x7E).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "0x\(String(b, radix: 16))"
            return "Socket.IO: unknown packet type \(shown)"
        case .invalidAttachments: return "Socket.IO: illegal attachments count"
        case .invalidAckId: return "Socket.IO: acknowledgement id out of range"
        case .invalidNamespace: return "Socket.IO: namespace is not valid UTF-8"
        case .invalidJSON(let error): return "Socket.IO: payload is not valid JSON (\(error.description))"
        case .invalidPayload(let why): return "Socket.IO: invalid payload: \(why)"
        case .reservedEventName(let name): return "Socket.IO: reserved event name \"\(name)\""
        case .unexpectedBinary: return "Socket.IO: binary data outside a binary packet"
        case .unexpectedText: return "Socket.IO: text packet while reassembling a binary packet"
        case .invalidPlaceholder: return "Socket.IO: invalid binary placeholder"
        case .tooManyAttachments(let n): return "Socket.IO: too many binary attachments (\(n))"
        }
    }
}
