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

    /// The sink's kind and its own settings (a `SinkKindSettings` of a registered kind).
    public struct Kind: Sendable, Equatable {
        /// The kind's own settings.
        public let settings: any SinkKindSettings

        public init(_ settings: any SinkKindSettings) {
            self.settings = settings
        }

        /// The `type` word: `pipe`, `webhook`, `email`...
        public var name: String { type(of: settings).typeName }

        /// The settings as the kind `type` reads them; nil for a sink of another kind.
        public func settings<T: SinkKindSettings>(as type: T.Type) -> T? { settings as? T }

        public static func == (a: Kind, b: Kind) -> Bool { a.settings.isEqual(to: b.settings) }
    }

    /// Every kind the configuration language reads: one registration line per kind.
    static let registry: [SinkKindEntry] = [
        SinkKindEntry(PipeSinkSettings.self),
        SinkKindEntry(WebhookSinkSettings.self),
        SinkKindEntry(EmailSinkSettings.self),
    ]

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
    public var templateEscaping: TemplateEscaping { kind.settings.templateEscaping }

    /// Whether the sink gets the JSON envelope whatever the route's template (an email sink
    /// renders subject, body and threading headers itself, at delivery time).
    public var receivesEnvelope: Bool { kind.settings.receivesEnvelope }

    static let commonKeys = ["type", "queue", "when_full", "retry"]
    static var kinds: [String] { registry.map(\.name) }

    /// Reads a `sink` block whose name was already checked; `nil` when `type` is missing or unknown.
    static func read(_ reader: inout BlockReader, name: String) -> SinkSettings? {
        let type = reader.word("type", choices: kinds, required: true)
        guard let entry = registry.first(where: { $0.name == type }) else {
            reader.allow(registry.flatMap(\.keys))
            return nil
        }
        reader.allow(entry.keys)
        let kind = Kind(entry.read(&reader))
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
