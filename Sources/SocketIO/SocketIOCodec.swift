import JSON

/// Encodes and decodes Socket.IO v5 packets (the text after the Engine.IO `4`).
///
/// Decoding validates like the official JavaScript parser, and is stricter where that parser
/// lets malformed packets through (see the oracle test for the exact list): attachment counts
/// and ack ids must be decimal digits; CONNECT carries an object or nothing; EVENT and ACK must
/// carry their array; an event name must be a string; no whitespace may precede the payload.
public enum SocketIOCodec {
    /// Decodes one packet.
    public static func decode(_ text: UnsafeRawBufferPointer) throws(SocketIOError) -> SocketPacket {
        try decodeEvent(text).packet
    }

    /// Decodes one packet held in an array.
    public static func decode(_ text: [UInt8]) throws(SocketIOError) -> SocketPacket {
        try text.withUnsafeBytes { raw in Result { () throws(SocketIOError) in try decodeEvent(raw).packet } }.get()
    }

    /// Decodes one packet and, for events and acks, also returns the byte ranges of the payload
    /// array's elements (relative to `packet.payload`), so callers need not scan the JSON twice.
    public static func decodeEvent(_ text: UnsafeRawBufferPointer) throws(SocketIOError) -> (packet: SocketPacket, elements: [Range<Int>]) {
        let parts = try decodeParts(text)
        var packet = parts.packet
        if let start = parts.payloadStart { packet.payload = Array(UnsafeRawBufferPointer(rebasing: text[start...])) }
        return (packet, parts.elements)
    }

    /// What ``decodeEvent(_:)`` finds, without copying the payload out of `text`.
    struct Parts {
        /// The packet, its `payload` not set.
        var packet: SocketPacket
        /// Where the payload starts in `text`, if there is one.
        var payloadStart: Int?
        /// For events and acks, the payload's element ranges (relative to the payload).
        var elements: [Range<Int>]
        /// For events, the decoded name.
        var name: String?
    }

    /// Decodes and validates one packet, leaving its payload in place.
    static func decodeParts(_ text: UnsafeRawBufferPointer) throws(SocketIOError) -> Parts {
        guard let first = text.first else { throw .emptyPacket }
        guard first >= UInt8(ascii: "0"), let type = SocketPacketType(rawValue: first &- UInt8(ascii: "0")) else {
            throw .unknownPacketType(first)
        }
        let count = text.count
        var i = 1
        var attachments = 0
        if type.isBinary {
            let start = i
            while i < count, isDigit(text[i]) { i += 1 }
            guard i > start, i - start <= 9, i < count, text[i] == UInt8(ascii: "-") else { throw .invalidAttachments }
            attachments = decimal(text, start..<i)
            i += 1
        }
        var namespace = "/"
        if i < count, text[i] == UInt8(ascii: "/") {
            let start = i
            while i < count, text[i] != UInt8(ascii: ",") { i += 1 }
            guard let name = String(validating: UnsafeRawBufferPointer(rebasing: text[start..<i]), as: UTF8.self) else {
                throw .invalidNamespace
            }
            namespace = name
            if i < count { i += 1 }
        }
        var ackId: Int? = nil
        if i < count, isDigit(text[i]) {
            let start = i
            while i < count, isDigit(text[i]) { i += 1 }
            guard i - start <= 16 else { throw .invalidAckId }
            let id = decimal(text, start..<i)
            guard id <= SocketPacket.maximumAckId else { throw .invalidAckId }
            ackId = id
        }
        let packet = SocketPacket(type: type, namespace: namespace, ackId: ackId, attachments: attachments)
        guard i < count else {
            switch type {
            case .connect, .disconnect: return Parts(packet: packet, payloadStart: nil, elements: [], name: nil)
            case .event, .binaryEvent, .ack, .binaryAck: throw .invalidPayload("missing array payload")
            case .connectError: throw .invalidPayload("missing error payload")
            }
        }
        // The official parser would read a space here as ack id 0; refuse the ambiguity.
        switch text[i] {
        case 0x20, 0x09, 0x0A, 0x0D: throw .invalidPayload("whitespace before the payload")
        default: break
        }
        let json = UnsafeRawBufferPointer(rebasing: text[i...])
        let (elements, name) = try validatePayload(type, json)
        return Parts(packet: packet, payloadStart: i, elements: elements, name: name)
    }

    /// Appends the text encoding of `packet`.
    public static func encode(_ packet: SocketPacket, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + packet.type.rawValue)
        if packet.type.isBinary {
            out.append(contentsOf: String(packet.attachments).utf8)
            out.append(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            out.append(contentsOf: packet.namespace.utf8)
            out.append(UInt8(ascii: ","))
        }
        if let id = packet.ackId { out.append(contentsOf: String(id).utf8) }
        if let payload = packet.payload { out.append(contentsOf: payload) }
    }

    /// The text encoding of `packet`.
    public static func encode(_ packet: SocketPacket) -> [UInt8] {
        var out: [UInt8] = []
        encode(packet, into: &out)
        return out
    }

    /// Checks the payload against the rules of its packet type; returns array element ranges
    /// and, for events, the name.
    private static func validatePayload(_ type: SocketPacketType, _ json: UnsafeRawBufferPointer) throws(SocketIOError) -> ([Range<Int>], String?) {
        switch type {
        case .disconnect:
            _ = try scan { () throws(JSONError) in try JSONScanner.validate(json) }
            throw .invalidPayload("DISCONNECT carries no payload")
        case .connect:
            guard try scan({ () throws(JSONError) in try JSONScanner.validate(json) }) == UInt8(ascii: "{") else {
                throw .invalidPayload("CONNECT payload must be an object")
            }
            return ([], nil)
        case .connectError:
            let kind = try scan { () throws(JSONError) in try JSONScanner.validate(json) }
            guard kind == UInt8(ascii: "{") || kind == UInt8(ascii: "\"") else {
                throw .invalidPayload("CONNECT_ERROR payload must be an object or a string")
            }
            return ([], nil)
        case .ack, .binaryAck:
            return (try scan { () throws(JSONError) in try JSONScanner.arrayElements(json) }, nil)
        case .event, .binaryEvent:
            let elements = try scan { () throws(JSONError) in try JSONScanner.arrayElements(json) }
            guard let nameRange = elements.first else { throw .invalidPayload("EVENT array is empty") }
            guard let name = JSONScanner.decodeString(UnsafeRawBufferPointer(rebasing: json[nameRange])) else {
                throw .invalidPayload("event name is not a string")
            }
            if SocketPacket.isReserved(name) { throw .reservedEventName(name) }
            return (elements, name)
        }
    }

    private static func scan<T>(_ body: () throws(JSONError) -> T) throws(SocketIOError) -> T {
        do {
            return try body()
        } catch {
            if case .unexpectedType = error { throw .invalidPayload("payload must be an array") }
            throw .invalidJSON(error)
        }
    }

    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    private static func decimal(_ text: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int {
        var value = 0
        for i in range { value = value * 10 + Int(text[i] - UInt8(ascii: "0")) }
        return value
    }
}
