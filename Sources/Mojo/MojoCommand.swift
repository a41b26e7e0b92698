import JSON

/// Every client -> server event of the MOJO events reference, typed. This is what sinks send back:
/// the same names and payloads as the reference.
public enum MojoCommand: Sendable, Equatable {
    case send(conversationId: String, content: String, type: String? = nil, replyToId: String? = nil)
    case typingStart(conversationId: String)
    case typingStop(conversationId: String)
    case read(conversationId: String, lastReadAt: String? = nil)
    case join(conversationId: String)
    case leave(conversationId: String)
    case presenceGet

    /// The Socket.IO event name.
    public var eventName: String {
        switch self {
        case .send: "message:send"
        case .typingStart: "typing:start"
        case .typingStop: "typing:stop"
        case .read: "messages:read"
        case .join: "conversation:join"
        case .leave: "conversation:leave"
        case .presenceGet: "presence:get"
        }
    }

    /// The conversation the command is about, when it has one.
    public var conversationId: String? {
        switch self {
        case .send(let c, _, _, _), .typingStart(let c), .typingStop(let c), .read(let c, _), .join(let c), .leave(let c): c
        case .presenceGet: nil
        }
    }

    /// The Socket.IO arguments after the event name (the reference's payload, or none).
    public var arguments: [JSONValue] {
        switch self {
        case .send(let c, let content, let type, let reply):
            var o = JSONObject([("conversationId", .string(c)), ("content", .string(content))])
            if let type { o["type"] = .string(type) }
            if let reply { o["replyToId"] = .string(reply) }
            return [.object(o)]
        case .typingStart(let c), .typingStop(let c), .join(let c), .leave(let c):
            return [.object(JSONObject([("conversationId", .string(c))]))]
        case .read(let c, let at):
            var o = JSONObject([("conversationId", .string(c))])
            if let at { o["lastReadAt"] = .string(at) }
            return [.object(o)]
        case .presenceGet:
            return []
        }
    }

    /// Message types the reference allows for `message:send`.
    public static let messageTypes: Set<String> = ["TEXT", "SYSTEM", "ATTACHMENT"]

    /// Builds a command from a name and payload in the shared vocabulary. `defaultConversation`
    /// fills a missing `conversationId` (a pipe bound to one conversation).
    public init(type name: String, data: JSONValue?, defaultConversation: String? = nil) throws(CommandError) {
        let d = data ?? .object(JSONObject([]))
        func conversation() throws(CommandError) -> String {
            switch d["conversationId"] {
            case .string(let s)? where !s.isEmpty: return s
            case nil, .null?:
                if let defaultConversation { return defaultConversation }
                throw .missingField(command: name, field: "conversationId")
            default: throw .wrongType(command: name, field: "conversationId", expected: "a non-empty string")
            }
        }
        func optional(_ key: String) throws(CommandError) -> String? {
            switch d[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw .wrongType(command: name, field: key, expected: "a string")
            }
        }
        if d.objectValue == nil && name != "presence:get" { throw .wrongType(command: name, field: "data", expected: "an object") }
        switch name {
        case "message:send":
            guard case .string(let content)? = d["content"] else {
                if d["content"] == nil { throw .missingField(command: name, field: "content") }
                throw .wrongType(command: name, field: "content", expected: "a string")
            }
            if content.isEmpty { throw .emptyContent }
            let type = try optional("type")
            if let type, !Self.messageTypes.contains(type) { throw .wrongType(command: name, field: "type", expected: "TEXT, SYSTEM or ATTACHMENT") }
            self = .send(conversationId: try conversation(), content: content, type: type, replyToId: try optional("replyToId"))
        case "typing:start": self = .typingStart(conversationId: try conversation())
        case "typing:stop": self = .typingStop(conversationId: try conversation())
        case "messages:read": self = .read(conversationId: try conversation(), lastReadAt: try optional("lastReadAt"))
        case "conversation:join": self = .join(conversationId: try conversation())
        case "conversation:leave": self = .leave(conversationId: try conversation())
        case "presence:get": self = .presenceGet
        default: throw .unknownCommand(name)
        }
    }
}

/// Why a line or request is not a valid command.
public enum CommandError: Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON(String)
    case notAnObject
    case missingField(command: String, field: String)
    case wrongType(command: String, field: String, expected: String)
    case unknownCommand(String)
    case emptyContent
    case tooLarge(limit: Int)
    case invalidUTF8

    public var description: String {
        switch self {
        case .notJSON(let why): "not valid JSON: \(why)"
        case .notAnObject: "a command must be a JSON object with `type` and `data`"
        case .missingField(let c, let f): "\(c): missing `\(f)`"
        case .wrongType(let c, let f, let e): "\(c): `\(f)` must be \(e)"
        case .unknownCommand(let n): "unknown command type `\(n)` (expected message:send, typing:start, typing:stop, messages:read, conversation:join, conversation:leave, presence:get)"
        case .emptyContent: "message:send: `content` is empty"
        case .tooLarge(let limit): "line longer than \(limit) bytes"
        case .invalidUTF8: "not valid UTF-8"
        }
    }
}
