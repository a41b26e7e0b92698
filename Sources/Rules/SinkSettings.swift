/// A `sink NAME { }` block: somewhere events go and replies come from.
public struct SinkSettings: Sendable, Equatable {
    /// What to do when the sink's queue is full.
    public enum WhenFull: String, Sendable, CaseIterable {
        /// Stop reading from the source until there is room (back-pressure on the tenant session).
        case block
        /// Drop the oldest queued event, count it and log it.
        case drop_oldest
        /// Write overflow to the spool directory and feed it back in order.
        case spill
    }

    /// The sink's kind and its own settings.
    public enum Kind: Sendable, Equatable {
        case pipe(PipeSinkSettings)
        case webhook(WebhookSinkSettings)
        case email(EmailSinkSettings)

        /// `pipe`, `webhook` or `email`.
        public var name: String {
            switch self {
            case .pipe: return "pipe"
            case .webhook: return "webhook"
            case .email: return "email"
            }
        }
    }

    /// The block's name, referenced by routes' `to`.
    public var name: String
    /// `type` and the keys that go with it.
    public var kind: Kind
    /// `queue`: events held in memory for this sink; default 1000.
    public var queue: Int
    /// `when_full`: default `block`.
    public var whenFull: WhenFull
    /// Where the block starts.
    public var location: SourceLocation

    /// Settings from their values.
    public init(name: String, kind: Kind, queue: Int = 1000, whenFull: WhenFull = .block, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.queue = queue
        self.whenFull = whenFull
        self.location = location
    }

    /// How a route's template is escaped for this sink: JSON string contents for JSON pipes and
    /// webhooks, one text line for text pipes, mail body text for email (the subject uses `.header`).
    public var templateEscaping: TemplateEscaping {
        switch kind {
        case .pipe(let pipe): return pipe.format == .json ? .json : .line
        case .webhook: return .json
        case .email: return .body
        }
    }

    static let commonKeys = ["type", "queue", "when_full"]
    static let kinds = ["pipe", "webhook", "email"]

    /// Reads a `sink` block whose name was already checked; `nil` when `type` is missing or unknown.
    static func read(_ reader: inout BlockReader, name: String) -> SinkSettings? {
        let type = reader.word("type", choices: kinds, required: true)
        let kind: Kind
        switch type {
        case "pipe":
            reader.allow(PipeSinkSettings.keys)
            kind = .pipe(PipeSinkSettings.read(&reader))
        case "webhook":
            reader.allow(WebhookSinkSettings.keys)
            kind = .webhook(WebhookSinkSettings.read(&reader))
        case "email":
            reader.allow(EmailSinkSettings.keys)
            kind = .email(EmailSinkSettings.read(&reader))
        default:
            reader.allow(PipeSinkSettings.keys + WebhookSinkSettings.keys + EmailSinkSettings.keys)
            return nil
        }
        return SinkSettings(name: name, kind: kind,
                            queue: reader.integer("queue", default: 1000, range: 1...1_000_000),
                            whenFull: reader.enumeration("when_full", default: .block),
                            location: reader.block.location)
    }
}

/// `type = pipe`: a child process fed one event per line on stdin; its stdout lines are replies.
public struct PipeSinkSettings: Sendable, Equatable {
    /// One child per conversation, or one per route.
    public enum Per: String, Sendable, CaseIterable { case conversation, route }
    /// What a line is.
    public enum Format: String, Sendable, CaseIterable {
        /// An event in the shared vocabulary (or the template, JSON-escaped).
        case json
        /// Plain text: the template rendered as one line.
        case text
    }

    /// `command`: argv, run without a shell (required). A first element containing `/` that
    /// is relative is resolved against the config file's directory.
    public var command: [String]
    /// `per`: default `conversation`.
    public var per: Per
    /// `format`: default `json`.
    public var format: Format

    static let keys = ["command", "per", "format"]

    static func read(_ reader: inout BlockReader) -> PipeSinkSettings {
        var command = reader.stringList("command", required: true) ?? []
        if let first = command.first, first.contains("/"), !first.hasPrefix("/") {
            command[0] = ConfigPath.resolve(first, against: reader.block.directory)
        }
        if command.isEmpty, let entry = reader.entry("command") {
            reader.fail(entry.value.location, "`command` is empty", hint: "command = [\"program\", \"arg\"]")
        }
        return PipeSinkSettings(command: command, per: reader.enumeration("per", default: .conversation),
                                format: reader.enumeration("format", default: .json))
    }
}

/// `type = webhook`: each event POSTed as JSON, signed the Standard Webhooks way.
public struct WebhookSinkSettings: Sendable, Equatable {
    /// `url`: `http` or `https` (required).
    public var url: String
    /// `secret`: signing secrets (`whsec_...`), by reference; several for rotation, first signs.
    public var secrets: [SecretRef]
    /// `allow_private`: allow loopback/private addresses; default false.
    public var allowPrivate: Bool
    /// `timeout`: per request; default 10s.
    public var timeout: Duration

    static let keys = ["url", "secret", "allow_private", "timeout"]

    static func read(_ reader: inout BlockReader) -> WebhookSinkSettings {
        WebhookSinkSettings(url: reader.url("url", schemes: ["http", "https"], required: true) ?? "",
                            secrets: reader.secrets("secret"),
                            allowPrivate: reader.bool("allow_private", default: false),
                            timeout: reader.duration("timeout", default: .seconds(10)))
    }
}

/// `type = email`: SMTP out; replies in by IMAP polling when `imap` is set.
public struct EmailSinkSettings: Sendable, Equatable {
    /// `smtp`: `smtp://` or `smtps://` URL (required).
    public var smtp: String
    /// `from`: envelope and header sender (required).
    public var from: String
    /// `to`: recipients (required, one or a list).
    public var to: [String]
    /// `username`: SMTP/IMAP login.
    public var username: String?
    /// `password`: by reference.
    public var password: SecretRef?
    /// `subject`: a template rendered with header escaping; default `"{sender.name} in {conversation}"`.
    public var subject: Template
    /// `imap`: `imap://` or `imaps://` mailbox URL polled for replies.
    public var imap: String?
    /// `poll_interval`: IMAP polling period; default 60s.
    public var pollInterval: Duration

    static let keys = ["smtp", "from", "to", "username", "password", "subject", "imap", "poll_interval"]
    static let defaultSubject = "{sender.name} in {conversation}"

    static func read(_ reader: inout BlockReader) -> EmailSinkSettings {
        EmailSinkSettings(smtp: reader.url("smtp", schemes: ["smtp", "smtps"], required: true) ?? "",
                          from: reader.string("from", required: true) ?? "",
                          to: reader.stringList("to", required: true) ?? [],
                          username: reader.string("username"),
                          password: reader.secret("password", allowCommand: false, required: false),
                          subject: reader.template("subject")
                              ?? (try? Template(parsing: defaultSubject, location: reader.block.location))
                              ?? Template(parts: []),
                          imap: reader.url("imap", schemes: ["imap", "imaps"], required: false),
                          pollInterval: reader.duration("poll_interval", default: .seconds(60)))
    }
}
