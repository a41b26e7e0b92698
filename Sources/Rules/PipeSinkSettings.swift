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
    /// `env`: extra environment for the child, `NAME=value` each (added to the daemon's, minus secrets).
    public var environment: [String] = []
    /// `dir`: working directory of the child (default: the daemon's).
    public var directory: String?
    /// `stop_grace`: how long a child may take to exit after its stdin closes and SIGTERM, before SIGKILL.
    public var stopGrace: Duration = .seconds(5)
    /// `idle_timeout`: a per-conversation child with nothing to do for this long is stopped (it
    /// starts again with the conversation's next event); `0s` keeps children forever. Default 10m.
    public var idleTimeout: Duration = .seconds(600)
    /// `stall_timeout`: a child with events waiting that reads nothing for this long is reported
    /// at warn and restarted (its unread events go to the next child); `0s` (the default) never.
    /// A child that closes its stdin is restarted whatever this says.
    public var stallTimeout: Duration = .zero

    static let keys = ["command", "per", "format", "env", "dir", "stop_grace", "idle_timeout", "stall_timeout"]

    /// Settings built in code (the `pipe` subcommand).
    public init(command: [String], per: Per, format: Format, environment: [String] = [], directory: String? = nil,
                stopGrace: Duration = .seconds(5)) {
        self.command = command
        self.per = per
        self.format = format
        self.environment = environment
        self.directory = directory
        self.stopGrace = stopGrace
    }

    /// Why `program` cannot be started (nil when it can): a path must name an executable
    /// file; a bare name must be found on `PATH` (or `/usr/local/bin:/usr/bin:/bin`).
    static func unrunnable(_ program: String, env: ConfigEnvironment) -> String? {
        guard env.verifiesReferences, let isExecutable = env.isExecutable else { return nil }
        if program.contains("/") {
            return isExecutable(program) ? nil : "command \(program) is not an executable file"
        }
        let path = env.environment("PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let d = dir.isEmpty ? "." : String(dir)
            if isExecutable(d + "/" + program) { return nil }
        }
        return "command \(program) is not found on PATH"
    }

    static func read(_ reader: inout BlockReader) -> PipeSinkSettings {
        var command = reader.stringList("command", required: true) ?? []
        if let first = command.first, first.contains("/"), !first.hasPrefix("/") {
            command[0] = ConfigPath.resolve(first, against: reader.block.directory)
            // `./x.sh` next to a config given as a bare file name: still a path, never a PATH lookup.
            if !command[0].contains("/") { command[0] = "./" + command[0] }
        }
        if command.isEmpty, let entry = reader.entry("command") {
            reader.fail(entry.value.location, "`command` is empty", hint: "command = [\"program\", \"arg\"]")
        } else if let first = command.first, let entry = reader.entry("command"), let problem = Self.unrunnable(first, env: reader.env) {
            reader.fail(entry.value.location, problem,
                        hint: first.contains("/") ? "relative paths are resolved against the directory of the file they are written in; check the path and `chmod +x`"
                                                  : "give the path to the program, or install it on the daemon's PATH")
        }
        var settings = PipeSinkSettings(command: command, per: reader.enumeration("per", default: .conversation),
                                        format: reader.enumeration("format", default: .json))
        let env = reader.stringList("env") ?? []
        for item in env where !item.contains("=") || item.hasPrefix("=") {
            if let entry = reader.entry("env") {
                reader.fail(entry.value.location, "`env` entry `\(item)` is not NAME=value", hint: "env = [\"LANG=C.UTF-8\"]")
            }
        }
        settings.environment = env
        settings.directory = reader.path("dir", mustBeReadable: false)
        settings.stopGrace = reader.duration("stop_grace", default: .seconds(5))
        settings.idleTimeout = reader.duration("idle_timeout", default: .seconds(600))
        settings.stallTimeout = reader.duration("stall_timeout", default: .zero)
        return settings
    }
}

extension PipeSinkSettings: ConfigurableSinkKind {
    public static let typeName = "pipe"
    /// JSON string contents for `format = json`, one text line for `format = text`.
    public var templateEscaping: TemplateEscaping { format == .json ? .json : .line }
}

extension SinkSettings.Kind {
    /// `type = pipe`.
    public static func pipe(_ settings: PipeSinkSettings) -> Self { Self(settings) }
}
