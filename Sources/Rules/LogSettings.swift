/// The `log { }` block: what goes to stderr and how.
public struct LogSettings: Sendable, Equatable {
    /// Lowest level written.
    public enum Level: String, Sendable, CaseIterable, Comparable {
        case debug, info, warn, error

        /// `warning` is accepted for `warn` (as `--log-level` does).
        static let aliases = ["warning": Level.warn]

        public static func < (a: Level, b: Level) -> Bool {
            allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
        }
    }

    /// Line format.
    public enum Format: String, Sendable, CaseIterable {
        /// `key=value` pairs.
        case logfmt
        /// One JSON object per line.
        case json
    }

    /// `level`: default `info`.
    public var level: Level
    /// `format`: default `logfmt`.
    public var format: Format

    /// Settings from their values.
    public init(level: Level = .info, format: Format = .logfmt) {
        self.level = level
        self.format = format
    }

    static let keys = ["level", "format"]

    static func read(_ reader: inout BlockReader) -> LogSettings {
        var level = Level.info
        if let word = reader.word("level", choices: Level.allCases.map(\.rawValue) + Level.aliases.keys.sorted()) {
            level = Level(rawValue: word) ?? Level.aliases[word] ?? .info
        }
        return LogSettings(level: level, format: reader.enumeration("format", default: .logfmt))
    }
}
