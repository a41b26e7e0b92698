import JSON

/// A message as the server sends it inside `message:new`.
public struct MojoMessage: Sendable, Equatable {
    public var id: String
    public var conversationId: String
    public var senderId: String
    public var content: String
    /// `TEXT`, `SYSTEM` or `ATTACHMENT`.
    public var type: String
    /// ISO 8601 UTC, e.g. `2024-12-29T10:00:00.000Z`.
    public var createdAt: String
    public var senderName: String?
    public var senderAvatarUrl: String?
    public var replyToId: String?
}

/// Every server -> client event of the MOJO events reference, typed. Unknown names are kept, not
/// dropped: a newer server may add events, and the relay forwards them unchanged.
public enum MojoEvent: Sendable, Equatable {
    case messageNew(MojoMessage)
    case messageSent(messageId: String, conversationId: String, timestamp: String?)
    case messageError(error: String, conversationId: String?)
    case typingUpdate(userId: String, conversationId: String, isTyping: Bool)
    case messagesRead(userId: String, conversationId: String, readAt: String?)
    case presenceOnline(userId: String, tenantId: String?, timestamp: String?)
    case presenceOffline(userId: String, tenantId: String?, lastSeen: String?)
    case presenceList(tenantId: String?, onlineUsers: [String])
    case conversationJoined(conversationId: String)
    case conversationLeft(conversationId: String)
    case conversationError(error: String, conversationId: String?)
    case other(name: String)

    /// Decodes the payload `data` of the event called `name`. Missing required fields are an error
    /// naming the field; extra fields are ignored.
    public init(name: String, data: JSONValue) throws(MojoDecodingError) {
        let d = FieldReader(event: name, data: data)
        switch name {
        case "message:new":
            let m = try d.object("message")
            let r = FieldReader(event: name, data: m, prefix: "message.")
            let sender = m["sender"]
            let conversation: String
            if let c = try r.optionalString("conversationId") { conversation = c } else { conversation = try d.string("conversationId") }
            self = .messageNew(MojoMessage(
                id: try r.string("id"),
                conversationId: conversation,
                senderId: try r.string("senderId"),
                content: try r.string("content"),
                type: try r.optionalString("type") ?? "TEXT",
                createdAt: try r.optionalString("createdAt") ?? "",
                senderName: sender?["name"]?.stringValue,
                senderAvatarUrl: sender?["avatarUrl"]?.stringValue,
                replyToId: try r.optionalString("replyToId")))
        case "message:sent":
            self = .messageSent(messageId: try d.string("messageId"), conversationId: try d.string("conversationId"),
                                timestamp: try d.optionalString("timestamp"))
        case "message:error":
            self = .messageError(error: try d.optionalString("error") ?? "unknown error", conversationId: try d.optionalString("conversationId"))
        case "typing:update":
            guard let typing = data["isTyping"]?.boolValue else { throw MojoDecodingError(event: name, field: "isTyping", problem: "missing or not a boolean") }
            self = .typingUpdate(userId: try d.string("userId"), conversationId: try d.string("conversationId"), isTyping: typing)
        case "messages:read":
            self = .messagesRead(userId: try d.string("userId"), conversationId: try d.string("conversationId"), readAt: try d.optionalString("readAt"))
        case "presence:online":
            self = .presenceOnline(userId: try d.string("userId"), tenantId: try d.optionalString("tenantId"), timestamp: try d.optionalString("timestamp"))
        case "presence:offline":
            self = .presenceOffline(userId: try d.string("userId"), tenantId: try d.optionalString("tenantId"), lastSeen: try d.optionalString("lastSeen"))
        case "presence:list":
            guard let users = data["onlineUsers"]?.arrayValue else { throw MojoDecodingError(event: name, field: "onlineUsers", problem: "missing or not an array") }
            self = .presenceList(tenantId: try d.optionalString("tenantId"), onlineUsers: users.compactMap(\.stringValue))
        case "conversation:joined":
            self = .conversationJoined(conversationId: try d.string("conversationId"))
        case "conversation:left":
            self = .conversationLeft(conversationId: try d.string("conversationId"))
        case "conversation:error":
            self = .conversationError(error: try d.optionalString("error") ?? "unknown error", conversationId: try d.optionalString("conversationId"))
        default:
            self = .other(name: name)
        }
    }

    /// The conversation the event is about, when it has one.
    public var conversationId: String? {
        switch self {
        case .messageNew(let m): m.conversationId
        case .messageSent(_, let c, _), .typingUpdate(_, let c, _), .messagesRead(_, let c, _),
             .conversationJoined(let c), .conversationLeft(let c): c
        case .messageError(_, let c), .conversationError(_, let c): c
        case .presenceOnline, .presenceOffline, .presenceList, .other: nil
        }
    }
}

/// A server event whose payload lacks a field the reference requires.
public struct MojoDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var event: String
    public var field: String
    public var problem: String
    public var description: String { "\(event): field `\(field)` \(problem)" }
}

/// Reads typed fields from an event payload, naming the missing one in its error.
struct FieldReader {
    let event: String
    let data: JSONValue
    var prefix = ""

    func string(_ key: String) throws(MojoDecodingError) -> String {
        guard let v = data[key]?.stringValue else { throw MojoDecodingError(event: event, field: prefix + key, problem: "missing or not a string") }
        return v
    }

    func optionalString(_ key: String) throws(MojoDecodingError) -> String? {
        switch data[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw MojoDecodingError(event: event, field: prefix + key, problem: "is not a string")
        }
    }

    func object(_ key: String) throws(MojoDecodingError) -> JSONValue {
        guard let v = data[key], v.objectValue != nil else { throw MojoDecodingError(event: event, field: prefix + key, problem: "missing or not an object") }
        return v
    }
}
