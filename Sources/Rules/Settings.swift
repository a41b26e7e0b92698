/// The `admin { }` block: the HTTP listener for health, metrics and inbound events.
public struct AdminSettings: Sendable, Equatable {
    /// `listen`: `host:port` (required), e.g. `"127.0.0.1:9090"`.
    public var listen: String
    /// `token`: bearer token required by the inbound event endpoint, if any.
    public var token: SecretRef?

    /// Settings from their values.
    public init(listen: String, token: SecretRef? = nil) {
        self.listen = listen
        self.token = token
    }

    static let keys = ["listen", "token"]

    static func read(_ reader: inout BlockReader) -> AdminSettings {
        var listen = reader.string("listen", required: true) ?? ""
        if !listen.isEmpty, hostPort(listen) == nil, let entry = reader.entry("listen") {
            reader.fail(entry.value.location, "`listen` must be host:port, found \"\(listen)\"",
                        hint: "for example \"127.0.0.1:9090\" or \"[::1]:9090\"")
            listen = ""
        }
        return AdminSettings(listen: listen, token: reader.secret("token", allowCommand: false, required: false))
    }

    /// Splits `host:port` (IPv6 hosts in brackets); `nil` when malformed.
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty else { return nil }
        return (host, port)
    }
}

/// The `spool { }` block: the durable queue of undelivered events and replies.
public struct SpoolSettings: Sendable, Equatable {
    /// `dir`: resolved directory; default `/var/lib/mojo-bridge/spool`.
    public var directory: String
    /// `max_size`: bytes on disk before the oldest entries are dropped (counted and logged); default 512MiB.
    public var maxSize: Int

    /// Settings from their values.
    public init(directory: String = "/var/lib/mojo-bridge/spool", maxSize: Int = 512 << 20) {
        self.directory = directory
        self.maxSize = maxSize
    }

    static let keys = ["dir", "max_size"]

    static func read(_ reader: inout BlockReader) -> SpoolSettings {
        SpoolSettings(directory: reader.path("dir", mustBeReadable: false) ?? "/var/lib/mojo-bridge/spool",
                      maxSize: reader.size("max_size", default: 512 << 20))
    }
}

/// The `log { }` block: what goes to stderr and how.
public struct LogSettings: Sendable, Equatable {
    /// Lowest level written.
    public enum Level: String, Sendable, CaseIterable, Comparable {
        case debug, info, warning, error

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
        LogSettings(level: reader.enumeration("level", default: .info),
                    format: reader.enumeration("format", default: .logfmt))
    }
}
