/// A violation of RFC 6455 by the peer, found while parsing frames or assembling messages.
///
/// Each case maps to the close code the caller should send before dropping the connection.
public enum WebSocketProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The frame used a reserved opcode (3-7, 11-15); carries the raw opcode.
    case reservedOpcode(UInt8)
    /// RSV bits were set although no extension was negotiated; carries the bits.
    case reservedBitsSet(UInt8)
    /// The frame was masked although the peer (a server) must not mask.
    case maskedFrame
    /// The frame was not masked although the peer (a client) must mask.
    case unmaskedFrame
    /// The 64-bit payload length had its most significant bit set.
    case invalidLength
    /// A control frame carried more than 125 bytes of payload.
    case controlFrameTooLarge
    /// A control frame had FIN clear.
    case fragmentedControlFrame
    /// A single frame was larger than the configured maximum; carries the announced length.
    case frameTooLarge(UInt64)
    /// An assembled message grew larger than the configured maximum.
    case messageTooLarge
    /// A continuation frame arrived with no fragmented message in progress.
    case unexpectedContinuation
    /// A new text or binary frame arrived while a fragmented message was in progress.
    case expectedContinuation
    /// A text message or close reason was not valid UTF-8.
    case invalidUTF8
    /// A close frame carried a one-byte payload.
    case invalidClosePayload
    /// A close frame carried a code that must not appear on the wire; carries the code.
    case invalidCloseCode(UInt16)

    /// The close code to send to the peer: 1002 protocol error, 1007 invalid payload, 1009 too big.
    public var closeCode: UInt16 {
        switch self {
        case .invalidUTF8: 1007
        case .frameTooLarge, .messageTooLarge: 1009
        default: 1002
        }
    }

    /// A short human-readable explanation, suitable for logs and as a close reason.
    public var description: String {
        switch self {
        case .reservedOpcode(let op): "reserved opcode \(op)"
        case .reservedBitsSet(let bits): "reserved bits set (\(bits)) without a negotiated extension"
        case .maskedFrame: "server frame is masked"
        case .unmaskedFrame: "client frame is not masked"
        case .invalidLength: "payload length has its most significant bit set"
        case .controlFrameTooLarge: "control frame payload exceeds 125 bytes"
        case .fragmentedControlFrame: "control frame is fragmented"
        case .frameTooLarge(let length): "frame of \(length) bytes exceeds the limit"
        case .messageTooLarge: "message exceeds the size limit"
        case .unexpectedContinuation: "continuation frame without a message in progress"
        case .expectedContinuation: "new data frame while a fragmented message is in progress"
        case .invalidUTF8: "invalid UTF-8 in text payload"
        case .invalidClosePayload: "close frame payload of one byte"
        case .invalidCloseCode(let code): "invalid close code \(code)"
        }
    }
}
