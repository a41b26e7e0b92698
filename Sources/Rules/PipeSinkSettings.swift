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
