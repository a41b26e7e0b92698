import JSON

/// What routing needs from an event; built by the relay from the typed MOJO event, or by
/// ``decode(envelope:direction:selfUserId:)`` from the shared JSON vocabulary (`check --event`).
public struct RoutableEvent: Sendable, Equatable {
    /// The tenant (organisation) id the event belongs to.
    public var tenant: String
    /// The seed event name (`message:new`, `typing:update`, ...) or command name (`message:send`).
    public var type: String
    /// The conversation, when the event has one.
    public var conversationId: String?
    /// The user who sent, typed, read or came online.
    public var senderId: String?
    /// `TEXT`, `SYSTEM`, `ATTACHMENT` for messages.
    public var messageType: String?
    /// The message text.
    public var content: String?
    /// The sender's display name.
    public var senderName: String?
    /// When it happened (ISO 8601 as sent by the server).
    public var createdAt: String?
    /// The seed payload, unchanged.
    public var data: JSONValue
    /// From MOJO to sinks, or from a sink to MOJO.
    public var direction: Direction
    /// The daemon's own user on this tenant (the token's `sub`), for echo suppression.
    public var selfUserId: String?
    /// The vocabulary `id` (`evt_...`), when known.
    public var eventId: String?
    /// For commands: the sink they came from; routes then apply only if they name that sink.
    public var sourceSink: String?

    /// An event from its parts.
    public init(tenant: String, type: String, conversationId: String? = nil, senderId: String? = nil,
                messageType: String? = nil, content: String? = nil, senderName: String? = nil,
                createdAt: String? = nil, data: JSONValue = .null, direction: Direction = .toSink,
                selfUserId: String? = nil, eventId: String? = nil, sourceSink: String? = nil) {
        self.tenant = tenant
        self.type = type
        self.conversationId = conversationId
        self.senderId = senderId
        self.messageType = messageType
        self.content = content
        self.senderName = senderName
        self.createdAt = createdAt
        self.data = data
        self.direction = direction
        self.selfUserId = selfUserId
        self.eventId = eventId
        self.sourceSink = sourceSink
    }

    /// The event's kind.
    public var kind: EventKind { EventKind(eventName: type) }

    /// Reads an event in the shared vocabulary
    /// (`{"id":..., "type":..., "timestamp":..., "tenant":..., "data":{...}}`), pulling the
    /// routing fields out of the seed payload. The failure is a one-line reason.
    public static func decode(envelope: JSONValue, direction: Direction = .toSink,
                              selfUserId: String? = nil) -> Result<RoutableEvent, EnvelopeError> {
        guard envelope.objectValue != nil else { return .failure(EnvelopeError("the event is not a JSON object")) }
        guard let type = envelope["type"]?.stringValue else { return .failure(EnvelopeError("the event has no string `type`")) }
        guard let tenant = envelope["tenant"]?.stringValue else { return .failure(EnvelopeError("the event has no string `tenant`")) }
        var event = RoutableEvent(tenant: tenant, type: type, payload: envelope["data"] ?? .null, direction: direction,
                                  selfUserId: selfUserId, eventId: envelope["id"]?.stringValue)
        if event.createdAt == nil { event.createdAt = envelope["timestamp"]?.stringValue }
        return .success(event)
    }

    /// The payload members routing reads, in the order ``init(tenant:type:fields:data:direction:selfUserId:eventId:sourceSink:)``
    /// takes them. The relay reads exactly these straight from the payload bytes (no tree).
    public static let routingFieldPaths: [[String]] = [
        ["message", "conversationId"], ["conversationId"],
        ["message", "senderId"], ["userId"], ["senderId"],
        ["message", "type"], ["type"],
        ["message", "content"], ["content"],
        ["message", "sender", "name"],
        ["message", "createdAt"], ["readAt"], ["timestamp"], ["lastSeen"],
    ]

    /// An event from its seed name and the string values found at ``routingFieldPaths`` (empty:
    /// no payload): `message.conversationId` or `conversationId`, the sender, type, content, time.
    public init(tenant: String, type: String, fields: [String?], data: JSONValue = .null, direction: Direction,
                selfUserId: String?, eventId: String? = nil, sourceSink: String? = nil) {
        self.init(tenant: tenant, type: type, data: data, direction: direction, selfUserId: selfUserId, eventId: eventId,
                  sourceSink: sourceSink)
        let f: (Int) -> String? = { fields.count > $0 ? fields[$0] : nil }
        conversationId = f(0) ?? f(1)
        senderId = f(2) ?? f(3) ?? f(4)
        messageType = f(5) ?? (type == "message:send" ? f(6) ?? "TEXT" : nil)
        content = f(7) ?? f(8)
        senderName = f(9)
        createdAt = f(10) ?? f(11) ?? f(12) ?? f(13)
    }

    /// An event from its seed name and parsed payload, the routing fields read from the tree.
    public init(tenant: String, type: String, payload data: JSONValue, direction: Direction, selfUserId: String?,
                eventId: String? = nil, sourceSink: String? = nil) {
        let fields = Self.routingFieldPaths.map { path -> String? in
            var value: JSONValue? = data
            for key in path { value = value?[key] }
            return value?.stringValue
        }
        self.init(tenant: tenant, type: type, fields: fields, data: data, direction: direction, selfUserId: selfUserId,
                  eventId: eventId, sourceSink: sourceSink)
    }

    /// The event in the shared vocabulary: `id` (when known), `type`, `timestamp` (when known),
    /// `tenant`, `data`.
    public func envelope() -> JSONValue {
        var object = JSONObject()
        if let eventId { object["id"] = .string(eventId) }
        object["type"] = .string(type)
        if let createdAt { object["timestamp"] = .string(createdAt) }
        object["tenant"] = .string(tenant)
        object["data"] = data
        return .object(object)
    }

    /// The event as a sink without a template receives it: the envelope's text by
    /// ``EnvelopeEncoding``, the encoder the relay uses.
    public func envelopeText(hops: Int = 0) -> String {
        var dataBytes: [UInt8] = []
        data.serialize(into: &dataBytes)
        var out: [UInt8] = []
        out.reserveCapacity(dataBytes.count + 160)
        dataBytes.withUnsafeBytes { buf in
            EnvelopeEncoding.append(id: eventId, type: type, tenant: tenant, hops: hops, data: buf, into: &out,
                                    hasTimestamp: createdAt != nil) { JSONScanner.appendEscaped(createdAt ?? "", into: &$0) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Why a JSON document is not an event in the shared vocabulary.
public struct EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, one line.
    public var description: String

    init(_ description: String) { self.description = description }
}
