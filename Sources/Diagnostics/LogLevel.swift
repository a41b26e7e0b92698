/// Severity of a log line, ordered from most to least verbose.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug = 0
    case info
    case warn
    case error

    /// Parses `debug`, `info`, `warn`/`warning`, `error`; nil for anything else.
    public init?(name: String) {
        switch name.lowercased() {
        case "debug", "trace": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        default: return nil
        }
    }

    /// The name printed in log lines.
    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// How log lines are rendered.
public enum LogFormat: String, Sendable {
    /// `ts=... level=info msg="connected" tenant=org_x`
    case logfmt
    /// `{"ts":"...","level":"info","msg":"connected","tenant":"org_x"}`
    case json
}
