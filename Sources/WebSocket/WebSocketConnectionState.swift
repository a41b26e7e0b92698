/// The connection-level WebSocket state machine (RFC 6455 §5.4, §5.5, §7): assembles fragmented
/// messages, validates text as UTF-8 (incrementally, across fragments), answers pings and runs the
/// close handshake.
///
/// Feed it every frame from ``WebSocketFrameParser`` with ``receive(_:)`` and perform the returned
/// ``Output``; it does no I/O. Data frames received after we started closing are still delivered,
/// as the peer may send them until it sees our close.
public struct WebSocketConnectionState: Sendable {
    /// What the caller must do after a received frame.
    public enum Output: Sendable, Equatable {
        /// A complete text message.
        case text(String)
        /// A complete binary message.
        case binary([UInt8])
        /// A ping arrived: send a pong carrying this payload. Not produced once we sent a close.
        case sendPong([UInt8])
        /// A pong arrived, with its payload (for heartbeat bookkeeping).
        case pong([UInt8])
        /// The peer started the close handshake: send a close frame with this code (echoing the
        /// peer's, or 1005 meaning "empty payload" when the peer sent none, see
        /// ``WebSocketFrameEncoder/encodeClose(code:reason:maskKey:into:)``), then drop the
        /// transport. The state is now closed.
        case sendClose(code: UInt16, reason: String)
        /// Our close was acknowledged by the peer's close (its code, `nil` when it sent none, and
        /// reason). The handshake is complete; the transport may be dropped.
        case closed(code: UInt16?, reason: String)
        /// The peer violated the protocol: send a close frame with `error.closeCode`, then drop the
        /// transport. The state is now closed.
        case protocolError(WebSocketProtocolError)
        /// Nothing to do (a fragment was buffered, or the connection is already closed).
        case nothing
    }

    private enum Phase: Sendable {
        case open
        /// We sent a close and wait for the peer's.
        case closing
        case closed
    }

    private var phase: Phase = .open
    private var assembler: WebSocketMessageAssembler

    /// Creates the state of an open connection.
    /// - Parameter maxMessageSize: the largest message, summed over its fragments, that is accepted;
    ///   larger messages give ``WebSocketProtocolError/messageTooLarge``.
    public init(maxMessageSize: Int = 16 << 20) {
        assembler = WebSocketMessageAssembler(maxMessageSize: maxMessageSize)
    }

    /// Whether the connection is open: no close frame sent or received and no protocol error.
    public var isOpen: Bool { phase == .open }

    /// Whether the close handshake is complete (or a protocol error ended the connection).
    public var isClosed: Bool { phase == .closed }

    /// Processes one received frame and returns what the caller must do.
    public mutating func receive(_ frame: WebSocketFrame) -> Output {
        if phase == .closed { return .nothing }
        do {
            return try process(frame)
        } catch {
            phase = .closed
            assembler.reset()
            return .protocolError(error)
        }
    }

    /// We initiate a close: returns whether a close frame must be sent (false if already closing
    /// or closed). The caller then waits for ``Output/closed(code:reason:)``, with its own timeout.
    public mutating func close(code: UInt16, reason: String) -> Bool {
        guard phase == .open else { return false }
        phase = .closing
        return true
    }

    private mutating func process(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> Output {
        // No extension is ever negotiated, so every RSV bit is a protocol error (§5.2).
        if frame.rsv != 0 { throw .reservedBitsSet(frame.rsv) }
        switch frame.opcode {
        case .continuation, .text, .binary:
            switch try assembler.receive(frame) {
            case .text(let text): return .text(text)
            case .binary(let bytes): return .binary(bytes)
            case nil: return .nothing
            }
        case .ping:
            try Self.checkControl(frame)
            return phase == .open ? .sendPong(frame.payload) : .nothing
        case .pong:
            try Self.checkControl(frame)
            return .pong(frame.payload)
        case .close:
            try Self.checkControl(frame)
            let (code, reason) = try Self.parseClose(frame.payload)
            let wasOpen = phase == .open
            phase = .closed
            assembler.reset()
            if wasOpen { return .sendClose(code: code ?? WebSocketCloseCode.noStatus, reason: "") }
            return .closed(code: code, reason: reason)
        }
    }

    /// Frames built by hand bypass the parser's checks, so they are repeated here (§5.5).
    private static func checkControl(_ frame: WebSocketFrame) throws(WebSocketProtocolError) {
        if !frame.fin { throw .fragmentedControlFrame }
        if frame.payload.count > 125 { throw .controlFrameTooLarge }
    }

    /// Splits a close payload into its code and reason (§5.5.1, §7.4).
    static func parseClose(_ payload: [UInt8]) throws(WebSocketProtocolError) -> (UInt16?, String) {
        if payload.isEmpty { return (nil, "") }
        if payload.count == 1 { throw .invalidClosePayload }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidOnWire(code) else { throw .invalidCloseCode(code) }
        let reasonBytes = payload[2...]
        let valid = reasonBytes.withUnsafeBytes { raw in
            var validator = UTF8Validator()
            return validator.feed(raw) && validator.isComplete
        }
        guard valid else { throw .invalidUTF8 }
        return (code, String(decoding: reasonBytes, as: UTF8.self))
    }
}
