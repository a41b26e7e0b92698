/// A `route NAME { }` block: which events go to which sinks, and how they are rendered.
///
/// Every criterion left out matches everything; list criteria match when any entry matches.
public struct Route: Sendable, Equatable {
    /// Which ways a route carries events.
    public enum Flow: String, Sendable, CaseIterable {
        /// Only events from MOJO to the sinks.
        case to_sink
        /// Only commands from the sinks to MOJO.
        case from_sink
        /// Both (the default).
        case both

        /// Whether an event travelling `direction` may use the route.
        public func allows(_ direction: Direction) -> Bool {
            switch self {
            case .both: return true
            case .to_sink: return direction == .toSink
            case .from_sink: return direction == .fromSink
            }
        }
    }

    /// The block's name.
    public var name: String
    /// Where the block starts.
    public var location: SourceLocation
    /// `tenant`: ids or globs; empty for any.
    public var tenants: [String]
    /// `conversation`: ids or globs; empty (or `"*"`) for any.
    public var conversations: [String]
    /// `events`: default `[message]`; `all` is every kind but `other`.
    public var events: Set<EventKind>
    /// `message_type`: e.g. `[TEXT]`, compared ignoring case; empty for any.
    public var messageTypes: [String]
    /// `sender`: ids or globs; empty for any.
    public var senders: [String]
    /// `include_self`: let the daemon's own messages through (default false: echo suppression).
    public var includeSelf: Bool
    /// `content`: a regular expression searched in the message text.
    public var content: ContentPattern?
    /// `to`: sink names (validated against the sinks).
    public var sinks: [String]
    /// `direction`: default `both`.
    public var flow: Flow
    /// `template`: optional; see ``Template``.
    public var template: Template?
    /// `continue`: keep looking at later routes after this one matched (default false).
    public var continues: Bool

    /// A route built in code (the `pipe` subcommand); every criterion defaults to "any".
    public init(name: String, location: SourceLocation = SourceLocation(file: "<command line>", line: 1, column: 1),
                tenants: [String] = [], conversations: [String] = [], events: Set<EventKind> = [.message],
                messageTypes: [String] = [], senders: [String] = [], includeSelf: Bool = false,
                content: ContentPattern? = nil, sinks: [String], flow: Flow = .both, template: Template? = nil,
                continues: Bool = false) {
        self.name = name
        self.location = location
        self.tenants = tenants
        self.conversations = conversations
        self.events = events
        self.messageTypes = messageTypes
        self.senders = senders
        self.includeSelf = includeSelf
        self.content = content
        self.sinks = sinks
        self.flow = flow
        self.template = template
        self.continues = continues
    }

    static let keys = ["tenant", "conversation", "events", "message_type", "sender", "include_self",
                       "content", "to", "direction", "template", "continue"]

    /// Reads a `route` block whose name was already checked; sink names are checked later.
    static func read(_ reader: inout BlockReader, name: String) -> Route {
        var events: Set<EventKind> = [.message]
        if let words = reader.stringList("events"), let entry = reader.entry("events") {
            events = []
            for word in words {
                if word == "all" {
                    events.formUnion(EventKind.allCases.filter { $0 != .other })
                } else if let kind = EventKind(rawValue: word), kind != .other {
                    events.insert(kind)
                } else {
                    reader.fail(entry.value.location, "unknown event kind `\(word)`",
                                hint: Suggestion.hint(for: word, in: EventKind.routeWords, noun: "kinds"))
                }
            }
        }
        var conversations = reader.stringList("conversation") ?? []
        if conversations.contains("*") { conversations = [] }
        return Route(
            name: name, location: reader.block.location,
            tenants: reader.stringList("tenant") ?? [],
            conversations: conversations,
            events: events,
            messageTypes: reader.stringList("message_type") ?? [],
            senders: reader.stringList("sender") ?? [],
            includeSelf: reader.bool("include_self", default: false),
            content: reader.regex("content"),
            sinks: reader.stringList("to", required: true) ?? [],
            flow: reader.enumeration("direction", default: .both),
            template: reader.template("template"),
            continues: reader.bool("continue", default: false))
    }
}

/// A compiled `content` regular expression and its source.
///
/// Patterns run on ``RegexProgram``, a linear-time matcher: a message costs at most its length
/// times the size of the pattern, so no pattern and message can freeze the event loop.
public struct ContentPattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written between the slashes.
    public let pattern: String
    /// The flags after the closing slash (`i`, `m`, `s`, `x`).
    public let flags: String
    let program: RegexProgram

    /// Compiles `/pattern/flags`; the error says what is wrong and where (a scalar offset).
    init(pattern: String, flags: String) throws(RegexSyntaxError) {
        self.pattern = pattern
        self.flags = flags
        self.program = try RegexProgram(pattern: pattern, flags: flags)
    }

    /// Whether the pattern is found anywhere in `text`.
    public func matches(_ text: String) -> Bool { program.matches(text) }

    /// `/pattern/flags`, slashes escaped.
    public var description: String {
        var escaped = ""
        for c in pattern { escaped += c == "/" ? "\\/" : String(c) }
        return "/" + escaped + "/" + flags
    }

    public static func == (a: ContentPattern, b: ContentPattern) -> Bool {
        a.pattern == b.pattern && a.flags == b.flags
    }
}

extension BlockReader {
    mutating func regex(_ key: String) -> ContentPattern? {
        guard let value = entry(key)?.value else { return nil }
        guard case .regex(let pattern, let flags) = value.kind else {
            fail(value.location, "`\(key)` must be a regular expression, found \(value.summary)", hint: "for example `\(key) = /^hello/i`")
            return nil
        }
        if let bad = flags.first(where: { !"imsx".contains($0) }) {
            fail(value.location, "unknown regular expression flag `\(bad)`", hint: "flags are i (ignore case), m (multi-line), s (dot matches newline), x (extended)")
            return nil
        }
        do {
            return try ContentPattern(pattern: pattern, flags: flags)
        } catch {
            // The pattern starts one column after the opening slash (offsets past a `\/`
            // are one short; the message quotes the pattern anyway).
            var at = value.location
            at.column += 1 + error.offset
            fail(at, "invalid regular expression /\(pattern)/: \(error.message)",
                 hint: error.hint ?? "the supported syntax is in Config/GRAMMAR.md; write a slash as \\/")
            return nil
        }
    }

    mutating func template(_ key: String) -> Template? {
        guard let text = string(key), let value = entry(key)?.value else { return nil }
        do {
            return try Template(parsing: text, location: value.location)
        } catch {
            fail(error.location, error.message, hint: error.hint)
            return nil
        }
    }
}
