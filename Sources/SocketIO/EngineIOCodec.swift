/// Encodes and decodes Engine.IO v4 packets, for the WebSocket transport (one packet per
/// frame) and the polling transport (packets joined by the record separator `0x1E`).
public enum EngineIOCodec {
    /// The polling payload separator.
    public static let recordSeparator: UInt8 = 0x1E

    /// Decodes one WebSocket text frame (or one polling segment) as one packet.
    /// - Throws: ``EngineIOError/emptyPacket``, ``EngineIOError/unknownPacketType(_:)``, or
    ///   ``EngineIOError/invalidOpen(_:)`` for a malformed handshake.
    public static func decodeText(_ frame: UnsafeRawBufferPointer) throws(EngineIOError) -> EnginePacket {
        guard let type = frame.first else { throw .emptyPacket }
        let rest = UnsafeRawBufferPointer(rebasing: frame[1...])
        switch type {
        case UInt8(ascii: "4"): return .message(Array(rest))
        case UInt8(ascii: "2"): return .ping(Array(rest))
        case UInt8(ascii: "3"): return .pong(Array(rest))
        case UInt8(ascii: "0"): return .open(try EngineOpen(json: rest))
        case UInt8(ascii: "1"): return .close
        case UInt8(ascii: "5"): return .upgrade
        case UInt8(ascii: "6"): return .noop
        default: throw .unknownPacketType(type)
        }
    }

    /// Decodes one WebSocket text frame held in an array.
    public static func decodeText(_ frame: [UInt8]) throws(EngineIOError) -> EnginePacket {
        try frame.withUnsafeBytes { raw in Result { () throws(EngineIOError) in try decodeText(raw) } }.get()
    }

    /// A WebSocket binary frame is always one binary message.
    public static func decodeBinary(_ frame: [UInt8]) -> EnginePacket {
        .binary(frame)
    }

    /// Appends the WebSocket frame for `packet` and returns whether it must be sent as a binary frame.
    @discardableResult
    public static func encode(_ packet: EnginePacket, into out: inout [UInt8]) -> Bool {
        if case .binary(let bytes) = packet {
            out.append(contentsOf: bytes)
            return true
        }
        guard let type = packet.typeByte else { return false }
        out.append(type)
        switch packet {
        case .open(let open): open.json.serialize(into: &out)
        case .ping(let payload), .pong(let payload), .message(let payload): out.append(contentsOf: payload)
        case .close, .upgrade, .noop, .binary: break
        }
        return false
    }

    /// The number of bytes ``encode(_:into:)`` produces for `packet` (what `maxPayload` limits).
    public static func encodedSize(_ packet: EnginePacket) -> Int {
        switch packet {
        case .binary(let bytes): return bytes.count
        case .ping(let payload), .pong(let payload), .message(let payload): return 1 + payload.count
        case .close, .upgrade, .noop: return 1
        case .open:
            var out: [UInt8] = []
            encode(packet, into: &out)
            return out.count
        }
    }

    /// Decodes a polling response body: packets separated by `0x1E`, binary ones as `b`+base64.
    /// - Throws: the first segment's error; an empty body or segment is ``EngineIOError/emptyPacket``.
    public static func decodePayload(_ body: UnsafeRawBufferPointer) throws(EngineIOError) -> [EnginePacket] {
        var packets: [EnginePacket] = []
        var start = 0
        while true {
            var end = start
            while end < body.count, body[end] != recordSeparator { end += 1 }
            let segment = UnsafeRawBufferPointer(rebasing: body[start..<end])
            if segment.first == UInt8(ascii: "b") {
                do throws(Base64.BadByte) {
                    packets.append(.binary(try Base64.decode(UnsafeRawBufferPointer(rebasing: segment[1...]))))
                } catch {
                    throw .invalidBase64(offset: start + 1 + error.offset)
                }
            } else {
                packets.append(try decodeText(segment))
            }
            guard end < body.count else { return packets }
            start = end + 1
        }
    }

    /// Decodes a polling response body held in an array.
    public static func decodePayload(_ body: [UInt8]) throws(EngineIOError) -> [EnginePacket] {
        try body.withUnsafeBytes { raw in Result { () throws(EngineIOError) in try decodePayload(raw) } }.get()
    }

    /// Appends a polling request body: the packets joined by `0x1E`, binary ones as `b`+base64.
    public static func encodePayload(_ packets: [EnginePacket], into out: inout [UInt8]) {
        for (i, packet) in packets.enumerated() {
            if i > 0 { out.append(recordSeparator) }
            if case .binary(let bytes) = packet {
                out.append(UInt8(ascii: "b"))
                Base64.encode(bytes, into: &out)
            } else {
                encode(packet, into: &out)
            }
        }
    }
}
