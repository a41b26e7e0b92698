import JSON

/// Reassembles BINARY_EVENT / BINARY_ACK packets: the text header packet, then one binary
/// frame per announced attachment.
///
/// The result is an ordinary ``SocketPacketType/event`` or ``SocketPacketType/ack`` packet
/// (attachments 0) whose payload has every `{"_placeholder":true,"num":N}` replaced by
/// `{"_binary":"<base64 of attachment N>"}`, so everything above this layer handles plain JSON.
/// MOJO does not use binary; this representation is simple, lossless and easy to recognise.
///
/// Feed it every decoded Socket.IO packet and every binary Engine.IO message, in order:
/// ```swift
/// if let packet = try reassembler.receive(decoded) { handle(packet) }   // text
/// if let packet = try reassembler.receive(binary: bytes) { handle(packet) }  // binary frame
/// ```
public struct BinaryReassembler: Sendable {
    /// The most attachments one packet may announce.
    public let maximumAttachments: Int

    private var header: SocketPacket?
    private var buffers: [[UInt8]] = []

    /// Creates a reassembler that refuses packets announcing more than `maximumAttachments`.
    public init(maximumAttachments: Int = 64) {
        self.maximumAttachments = maximumAttachments
    }

    /// Whether a binary packet is waiting for more attachments.
    public var isReassembling: Bool { header != nil }

    /// Takes a decoded text packet. Returns it unchanged when it is not binary, the converted
    /// packet when it is binary with no attachments, or `nil` while attachments are awaited.
    /// - Throws: ``SocketIOError/unexpectedText`` while attachments are awaited (the partial
    ///   packet is dropped), ``SocketIOError/tooManyAttachments(_:)``, or placeholder errors.
    public mutating func receive(_ packet: SocketPacket) throws(SocketIOError) -> SocketPacket? {
        guard header == nil else {
            reset()
            throw .unexpectedText
        }
        guard packet.type.isBinary else { return packet }
        guard packet.attachments <= maximumAttachments else { throw .tooManyAttachments(packet.attachments) }
        if packet.attachments == 0 { return try Self.reconstruct(packet, buffers: []) }
        header = packet
        buffers = []
        buffers.reserveCapacity(packet.attachments)
        return nil
    }

    /// Takes one binary attachment; returns the reassembled packet after the last one.
    /// - Throws: ``SocketIOError/unexpectedBinary`` when no binary packet is pending, or
    ///   ``SocketIOError/invalidPlaceholder`` when the payload refers to a missing attachment.
    public mutating func receive(binary: [UInt8]) throws(SocketIOError) -> SocketPacket? {
        guard let pending = header else { throw .unexpectedBinary }
        buffers.append(binary)
        guard buffers.count == pending.attachments else { return nil }
        let collected = buffers
        reset()
        return try Self.reconstruct(pending, buffers: collected)
    }

    /// Drops any partial packet (call it when the transport closes).
    public mutating func reset() {
        header = nil
        buffers = []
    }

    private static func reconstruct(_ packet: SocketPacket, buffers: [[UInt8]]) throws(SocketIOError) -> SocketPacket {
        var result = packet
        result.type = packet.type == .binaryEvent ? .event : .ack
        result.attachments = 0
        guard let payload = packet.payload else { return result }
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue(parsing: payload)
        } catch {
            throw .invalidJSON(error)
        }
        var out: [UInt8] = []
        try substitute(value, buffers).serialize(into: &out)
        result.payload = out
        return result
    }

    private static func substitute(_ value: JSONValue, _ buffers: [[UInt8]]) throws(SocketIOError) -> JSONValue {
        switch value {
        case .array(let elements):
            var replaced: [JSONValue] = []
            replaced.reserveCapacity(elements.count)
            for element in elements { replaced.append(try substitute(element, buffers)) }
            return .array(replaced)
        case .object(let object):
            if object["_placeholder"] == .bool(true) {
                guard let num = object["num"]?.intValue, buffers.indices.contains(num) else { throw .invalidPlaceholder }
                return .object(JSONObject([("_binary", .string(Base64.encode(buffers[num])))]))
            }
            var replaced = JSONObject()
            for (key, member) in object { replaced[key] = try substitute(member, buffers) }
            return .object(replaced)
        default:
            return value
        }
    }

    /// The attachment bytes a `{"_binary":"<base64>"}` value stands for, or `nil` for any other value.
    public static func binaryBytes(of value: JSONValue) -> [UInt8]? {
        guard case .object(let object) = value, object.count == 1, var text = object["_binary"]?.stringValue else { return nil }
        return text.withUTF8 { utf8 in try? Base64.decode(UnsafeRawBufferPointer(utf8)) }
    }
}
