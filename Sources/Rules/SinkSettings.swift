/// A `sink NAME { }` block: somewhere events go and replies come from.
public struct SinkSettings: Sendable, Equatable {
    /// What to do when the sink's queue is full.
    public enum WhenFull: String, Sendable, CaseIterable {
        /// Stop reading from MOJO until there is room (backpressure on the tenant sessions: the
        /// events wait on the server); nothing is lost.
        case block
        /// Drop the oldest queued event, count it and log it (the explicit lossy choice).
        case drop_oldest
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
    /// `retry`: the delays between delivery attempts; after the last one the event is dead-lettered.
    public var retry: [Duration]

    /// The default schedule (Standard Webhooks' guidance): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    public static let defaultRetry: [Duration] = [.zero, .seconds(5), .seconds(300), .seconds(1800), .seconds(7200),
                                                  .seconds(18_000), .seconds(36_000), .seconds(36_000)]

    /// Settings from their values.
    public init(name: String, kind: Kind, queue: Int = 1000, whenFull: WhenFull = .block, location: SourceLocation,
                retry: [Duration] = SinkSettings.defaultRetry) {
        self.name = name
        self.kind = kind
        self.queue = queue
        self.whenFull = whenFull
        self.location = location
        self.retry = retry
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

    static let commonKeys = ["type", "queue", "when_full", "retry"]
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
        // `spill` (overflow to disk) is what the spool always does: the value is gone, say so.
        let whenFull: WhenFull
        if let entry = reader.entry("when_full"), Self.isSpill(entry.value.kind) {
            reader.fail(entry.value.location, "`when_full = spill` was removed: every event is spooled on disk already",
                        hint: "use `when_full = block` (pause reading from MOJO until the spool has room; nothing lost) or `drop_oldest`")
            whenFull = .block
        } else {
            whenFull = reader.enumeration("when_full", default: .block)
        }
        return SinkSettings(name: name, kind: kind,
                            queue: reader.integer("queue", default: 1000, range: 1...1_000_000),
                            whenFull: whenFull,
                            location: reader.block.location,
                            retry: reader.durationList("retry") ?? SinkSettings.defaultRetry)
    }

    static func isSpill(_ kind: SyntaxValue.Kind) -> Bool {
        switch kind {
        case .word("spill"), .string("spill"): true
        default: false
        }
    }
}
