/// Serialises WebSocket frames (RFC 6455 §5.2), appending to a caller-owned buffer.
///
/// A client masks every frame it sends with a fresh random 4-byte key (RFC 6455 §5.3); pass `nil`
/// only on the server side. The encoder does not check RFC rules such as the 125-byte limit on
/// control frames: the caller decides what to send.
public enum WebSocketFrameEncoder {
    /// Appends one frame to `buffer`: header, then payload, masked in place when `maskKey` is set.
    /// No intermediate allocation is made beyond growing `buffer`.
    public static func encode(
        opcode: WebSocketOpcode,
        payload: UnsafeRawBufferPointer,
        fin: Bool = true,
        maskKey: (UInt8, UInt8, UInt8, UInt8)?,
        into buffer: inout [UInt8]
    ) {
        encode(opcode: opcode, payload: payload, fin: fin, rsv: 0, maskKey: maskKey, into: &buffer)
    }

    /// Appends one frame to `buffer`; see ``encode(opcode:payload:fin:maskKey:into:)-(_,UnsafeRawBufferPointer,_,_,_)``.
    public static func encode(
        opcode: WebSocketOpcode,
        payload: [UInt8],
        fin: Bool = true,
        maskKey: (UInt8, UInt8, UInt8, UInt8)?,
        into buffer: inout [UInt8]
    ) {
        payload.withUnsafeBytes { bytes in
            encode(opcode: opcode, payload: bytes, fin: fin, rsv: 0, maskKey: maskKey, into: &buffer)
        }
    }

    /// Appends one text frame carrying the UTF-8 of `text`.
    public static func encode(
        text: String,
        fin: Bool = true,
        maskKey: (UInt8, UInt8, UInt8, UInt8)?,
        into buffer: inout [UInt8]
    ) {
        var text = text
        text.withUTF8 { utf8 in
            encode(opcode: .text, payload: UnsafeRawBufferPointer(utf8), fin: fin, rsv: 0, maskKey: maskKey, into: &buffer)
        }
    }

    /// Appends `frame` (including its RSV bits) to `buffer`.
    public static func encode(_ frame: WebSocketFrame, maskKey: (UInt8, UInt8, UInt8, UInt8)?, into buffer: inout [UInt8]) {
        frame.payload.withUnsafeBytes { bytes in
            encode(opcode: frame.opcode, payload: bytes, fin: frame.fin, rsv: frame.rsv, maskKey: maskKey, into: &buffer)
        }
    }

    /// Appends a close frame. `code` `nil` or 1005 ("no status") sends an empty payload, as RFC 6455
    /// §7.4.1 forbids 1005 on the wire; otherwise the payload is the code followed by `reason`,
    /// truncated at a character boundary to keep the payload within 125 bytes.
    public static func encodeClose(
        code: UInt16?,
        reason: String = "",
        maskKey: (UInt8, UInt8, UInt8, UInt8)?,
        into buffer: inout [UInt8]
    ) {
        var payload: [UInt8] = []
        if let code, code != 1005 {
            payload.reserveCapacity(125)
            payload.append(UInt8(code >> 8))
            payload.append(UInt8(code & 0xFF))
            for character in reason {
                let utf8 = character.utf8
                if payload.count + utf8.count > 125 { break }
                payload.append(contentsOf: utf8)
            }
        }
        encode(opcode: .close, payload: payload, maskKey: maskKey, into: &buffer)
    }

    static func encode(
        opcode: WebSocketOpcode,
        payload: UnsafeRawBufferPointer,
        fin: Bool,
        rsv: UInt8,
        maskKey: (UInt8, UInt8, UInt8, UInt8)?,
        into buffer: inout [UInt8]
    ) {
        let length = payload.count
        buffer.reserveCapacity(buffer.count + 14 + length)
        // The header is built in 16 bytes of stack and appended in one copy.
        var header: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &header) { raw in
            raw[0] = (fin ? 0x80 : 0) | (rsv & 0x07) << 4 | opcode.rawValue
            let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
            var count: Int
            if length < 126 {
                raw[1] = maskBit | UInt8(length)
                count = 2
            } else if length <= 0xFFFF {
                raw[1] = maskBit | 126
                raw[2] = UInt8(truncatingIfNeeded: length >> 8)
                raw[3] = UInt8(truncatingIfNeeded: length)
                count = 4
            } else {
                raw[1] = maskBit | 127
                let wide = UInt64(length)
                for index in 0..<8 { raw[2 + index] = UInt8(truncatingIfNeeded: wide >> (56 - 8 * UInt64(index))) }
                count = 10
            }
            if let key = maskKey {
                raw[count] = key.0
                raw[count + 1] = key.1
                raw[count + 2] = key.2
                raw[count + 3] = key.3
                count += 4
            }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
        let payloadStart = buffer.count
        buffer.append(contentsOf: payload)
        if let key = maskKey, length > 0 {
            buffer.withUnsafeMutableBytes { raw in
                WebSocketMask.apply(key, to: UnsafeMutableRawBufferPointer(rebasing: raw[payloadStart...]))
            }
        }
    }
}
