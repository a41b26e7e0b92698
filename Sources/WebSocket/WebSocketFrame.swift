/// One WebSocket frame with its payload already unmasked (RFC 6455 §5.2).
public struct WebSocketFrame: Sendable, Equatable {
    /// Whether this is the final fragment of a message (always true for control frames).
    public var fin: Bool
    /// The frame's opcode.
    public var opcode: WebSocketOpcode
    /// The application payload, unmasked.
    public var payload: [UInt8]
    /// The RSV1-RSV3 bits, in the low three bits (RSV1 = 0b100). Zero unless an extension is in use.
    public var rsv: UInt8

    /// Creates a frame.
    public init(fin: Bool = true, opcode: WebSocketOpcode, payload: [UInt8], rsv: UInt8 = 0) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
        self.rsv = rsv
    }
}
