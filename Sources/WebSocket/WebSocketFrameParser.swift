/// An incremental parser of WebSocket frames (RFC 6455 §5.2).
///
/// Feed it bytes as they arrive with ``append(_:)-(UnsafeRawBufferPointer)`` and call ``next()``
/// until it returns `nil` (more data needed). It does no I/O and keeps no state between frames
/// besides unconsumed bytes, so the header of a partial frame is simply re-read on the next call.
/// Structural checks that need only the header (reserved opcode, masking, control-frame length and
/// FIN, maximum frame size) fail before the payload arrives, so an oversized frame is never buffered.
/// After an error the byte stream is unusable: close the connection.
public struct WebSocketFrameParser: Sendable {
    private var buffer: [UInt8] = []
    /// Index of the first unconsumed byte; consumed bytes are dropped lazily in `append`.
    private var readIndex = 0
    private let maxFrameSize: Int
    private let expectMasked: Bool

    /// Creates a parser.
    /// - Parameters:
    ///   - maxFrameSize: the largest payload a single frame may announce; larger frames throw
    ///     ``WebSocketProtocolError/frameTooLarge(_:)``.
    ///   - expectMasked: `false` on the client side (server frames must be unmasked), `true` on the
    ///     server side (client frames must be masked). A frame of the other kind is an error.
    public init(maxFrameSize: Int = 16 << 20, expectMasked: Bool = false) {
        self.maxFrameSize = max(0, maxFrameSize)
        self.expectMasked = expectMasked
    }

    /// The number of received bytes not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: [UInt8]) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Drops consumed bytes once they make up more than half of the buffer, so each byte is moved
    /// at most a constant number of times.
    private mutating func compact() {
        if readIndex == 0 { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// Returns the next complete frame, or `nil` when more bytes are needed.
    /// - Throws: ``WebSocketProtocolError`` when the bytes violate RFC 6455; the stream cannot be resumed.
    public mutating func next() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let start = readIndex
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let byte0 = buffer[start]
        let byte1 = buffer[start + 1]
        let fin = byte0 & 0x80 != 0
        guard let opcode = WebSocketOpcode(rawValue: byte0 & 0x0F) else {
            throw .reservedOpcode(byte0 & 0x0F)
        }
        let masked = byte1 & 0x80 != 0
        if masked != expectMasked { throw masked ? .maskedFrame : .unmaskedFrame }
        let shortLength = byte1 & 0x7F
        if opcode.isControl {
            if !fin { throw .fragmentedControlFrame }
            if shortLength > 125 { throw .controlFrameTooLarge }
        }

        var headerLength = 2
        var length = UInt64(shortLength)
        if shortLength == 126 {
            guard available >= 4 else { return nil }
            length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
            headerLength = 4
        } else if shortLength == 127 {
            guard available >= 10 else { return nil }
            length = 0
            for offset in 2..<10 { length = length << 8 | UInt64(buffer[start + offset]) }
            if length & (1 << 63) != 0 { throw .invalidLength }
            headerLength = 10
        }
        if length > UInt64(maxFrameSize) { throw .frameTooLarge(length) }
        let maskOffset = start + headerLength
        if masked { headerLength += 4 }
        // `length <= maxFrameSize`, an `Int`, so this conversion cannot trap.
        let payloadLength = Int(length)
        guard available - headerLength >= payloadLength else { return nil }

        let payloadStart = start + headerLength
        var payload = Array(buffer[payloadStart..<(payloadStart + payloadLength)])
        if masked {
            let key = (buffer[maskOffset], buffer[maskOffset + 1], buffer[maskOffset + 2], buffer[maskOffset + 3])
            payload.withUnsafeMutableBytes { WebSocketMask.apply(key, to: $0) }
        }
        readIndex = payloadStart + payloadLength
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload, rsv: (byte0 >> 4) & 0x07)
    }
}
