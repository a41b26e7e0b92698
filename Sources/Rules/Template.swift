import JSON

/// A per-route message template: literal text with `{field}` placeholders, rendered for one
/// event and escaped for where it goes (see ``TemplateEscaping``).
///
/// Fields: `{content}`, `{sender.id}`, `{sender.name}`, `{conversation}`, `{tenant}`, `{type}`,
/// `{message.type}`, `{message.id}`, `{time}` (the event's time), `{id}` (the vocabulary event id),
/// `{data}` (the whole payload as compact JSON) and `{data.path.to.field}` for any payload field
/// (a numeric segment indexes an array). A missing value renders as nothing; a non-string value
/// as compact JSON. `{{` and `}}` are literal braces. An unknown field is a load-time error.
public struct Template: Sendable, Equatable {
    /// A named value of an event.
    enum Field: Sendable, Equatable {
        case content, senderId, senderName, conversation, tenant, type, messageType, messageId, time, id
        case data([String])
    }

    enum Part: Sendable, Equatable {
        case literal(String)
        case field(Field)
    }

    /// The field names accepted between braces (besides `data.…`).
    static let fieldNames: [String: Field] = [
        "content": .content, "sender.id": .senderId, "sender.name": .senderName,
        "conversation": .conversation, "tenant": .tenant, "type": .type,
        "message.type": .messageType, "message.id": .messageId, "time": .time, "id": .id, "data": .data([]),
    ]

    let parts: [Part]
    /// The template as written.
    public let source: String

    init(parts: [Part], source: String = "") {
        self.parts = parts
        self.source = source
    }

    /// Parses a template. `location` is where the string literal starts; errors point into it
    /// (exact when no escape sequence precedes the problem).
    public init(parsing text: String, location: SourceLocation) throws(ConfigError) {
        var parts: [Part] = []
        var literal = ""
        let scalars = Array(text.unicodeScalars)
        var i = 0
        func here(_ index: Int) -> SourceLocation { location.advanced(by: index + 1) }
        while i < scalars.count {
            let c = scalars[i]
            if c == "{", i + 1 < scalars.count, scalars[i + 1] == "{" {
                literal += "{"
                i += 2
            } else if c == "}", i + 1 < scalars.count, scalars[i + 1] == "}" {
                literal += "}"
                i += 2
            } else if c == "}" {
                throw ConfigError(here(i), "unmatched `}` in template", hint: "write a literal brace as `}}`")
            } else if c == "{" {
                guard let close = scalars[(i + 1)...].firstIndex(of: "}") else {
                    throw ConfigError(here(i), "unclosed `{` in template", hint: "close the field with `}` or write a literal brace as `{{`")
                }
                var name = ""
                name.unicodeScalars.append(contentsOf: scalars[(i + 1)..<close])
                guard let field = Template.field(named: name) else {
                    let known = Template.fieldNames.keys.sorted() + ["data.<path>"]
                    throw ConfigError(here(i + 1), "unknown template field `{\(name)}`",
                                      hint: Suggestion.closest(to: name, in: Template.fieldNames.keys.sorted())
                                          .map { "did you mean `{\($0)}`?" } ?? "fields are " + known.joined(separator: ", "))
                }
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(.field(field))
                i = close + 1
            } else {
                literal.unicodeScalars.append(c)
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.init(parts: parts, source: text)
    }

    private static func field(named name: String) -> Field? {
        if let field = fieldNames[name] { return field }
        guard name.hasPrefix("data.") else { return nil }
        let path = name.dropFirst(5).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else { return nil }
        return .data(path)
    }

    /// The template filled in with `event`'s values, escaped as `escaping` says.
    public func render(_ event: RoutableEvent, escaping: TemplateEscaping) -> String {
        var output = ""
        for part in parts {
            switch part {
            case .literal(let text): output += text
            case .field(let field):
                let value = Template.value(of: field, in: event)
                output += escaping == .json ? TemplateEscaping.jsonStringContents(value) : value
            }
        }
        return escaping.finish(output)
    }

    static func value(of field: Field, in event: RoutableEvent) -> String {
        switch field {
        case .content: return event.content ?? ""
        case .senderId: return event.senderId ?? ""
        case .senderName: return event.senderName ?? event.senderId ?? ""
        case .conversation: return event.conversationId ?? ""
        case .tenant: return event.tenant
        case .type: return event.type
        case .messageType: return event.messageType ?? ""
        case .messageId: return event.data["message"]?["id"]?.stringValue ?? ""
        case .time: return event.createdAt ?? ""
        case .id: return event.eventId ?? ""
        case .data(let path):
            var value: JSONValue? = event.data
            for segment in path {
                if let index = Int(segment), case .array = value {
                    value = value?[index]
                } else {
                    value = value?[segment]
                }
            }
            switch value {
            case nil, .null?: return ""
            case .string(let s)?: return s
            case let other?: return other.serialized()
            }
        }
    }
}

extension Template {
    /// What a text pipe receives when its route has no template.
    public static let defaultLine = Template(parts: [.field(.senderName), .literal(": "), .field(.content)],
                                             source: "{sender.name}: {content}")
    /// What an email body says when its route has no template.
    public static let defaultBody = Template(
        parts: [.field(.senderName), .literal(" wrote in conversation "), .field(.conversation),
                .literal(" at "), .field(.time), .literal(":\n\n"), .field(.content), .literal("\n")],
        source: "{sender.name} wrote in conversation {conversation} at {time}:\\n\\n{content}\\n")
}
