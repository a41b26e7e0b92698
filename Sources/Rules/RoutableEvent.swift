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

    /// An event from its seed name and payload, with the routing fields pulled out of the payload
    /// (`message.conversationId` or `conversationId`, the sender, type, content, time).
    public init(tenant: String, type: String, payload data: JSONValue, direction: Direction, selfUserId: String?,
                eventId: String? = nil, sourceSink: String? = nil) {
        self.init(tenant: tenant, type: type, data: data, direction: direction, selfUserId: selfUserId, eventId: eventId)
        self.sourceSink = sourceSink
        let message = data["message"]
        conversationId = message?["conversationId"]?.stringValue ?? data["conversationId"]?.stringValue
        senderId = message?["senderId"]?.stringValue ?? data["userId"]?.stringValue ?? data["senderId"]?.stringValue
        messageType = message?["type"]?.stringValue ?? (type == "message:send" ? data["type"]?.stringValue ?? "TEXT" : nil)
        content = message?["content"]?.stringValue ?? data["content"]?.stringValue
        senderName = message?["sender"]?["name"]?.stringValue
        createdAt = message?["createdAt"]?.stringValue ?? data["readAt"]?.stringValue
            ?? data["timestamp"]?.stringValue ?? data["lastSeen"]?.stringValue
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
}

/// Why a JSON document is not an event in the shared vocabulary.
public struct EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, one line.
    public var description: String

    init(_ description: String) { self.description = description }
}
