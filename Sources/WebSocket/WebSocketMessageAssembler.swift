/// Reassembles data messages from frames (RFC 6455 §5.4) and validates text as it arrives.
///
/// Internal to ``WebSocketConnectionState``; control frames never reach it.
struct WebSocketMessageAssembler: Sendable {
    /// A complete message.
    enum Message: Equatable {
        case text(String)
        case binary([UInt8])
    }

    private let maxMessageSize: Int
    /// The opcode of the message in progress (`.text` or `.binary`), `nil` between messages.
    private var kind: WebSocketOpcode?
    private var buffer: [UInt8] = []
    private var validator = UTF8Validator()

    init(maxMessageSize: Int) {
        self.maxMessageSize = max(0, maxMessageSize)
    }

    /// Forgets any message in progress.
    mutating func reset() {
        kind = nil
        buffer = []
        validator = UTF8Validator()
    }

    /// Takes one data frame; returns the message it completes, or `nil` when more fragments follow.
    mutating func receive(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> Message? {
        switch frame.opcode {
        case .text, .binary:
            if kind != nil { throw .expectedContinuation }
            if frame.payload.count > maxMessageSize { throw .messageTooLarge }
            if frame.fin {
                // Unfragmented: the common case, handed over without copying.
                if frame.opcode == .binary { return .binary(frame.payload) }
                guard UTF8Validator.isValid(frame.payload) else { throw .invalidUTF8 }
                return .text(String(decoding: frame.payload, as: UTF8.self))
            }
            kind = frame.opcode
            validator = UTF8Validator()
            buffer = frame.payload
        case .continuation:
            guard kind != nil else { throw .unexpectedContinuation }
            if frame.payload.count > maxMessageSize - buffer.count { throw .messageTooLarge }
            buffer.append(contentsOf: frame.payload)
        default:
            return nil
        }
        if kind == .text, !validator.feed(frame.payload) { throw .invalidUTF8 }
        guard frame.fin else { return nil }
        let message: Message
        if kind == .text {
            guard validator.isComplete else { throw .invalidUTF8 }
            message = .text(String(decoding: buffer, as: UTF8.self))
        } else {
            message = .binary(buffer)
        }
        reset()
        return message
    }
}
