/// One problem found while loading a configuration: where, what, and how to fix it.
///
/// The loader collects every error it can find instead of stopping at the first, so
/// `mojo-bridge check` shows them all. Each prints as one line in the format compilers use:
///
///     path:line:col: error: message (hint: how to fix it)
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SourceLocation
    /// What is wrong, in one sentence without a trailing period.
    public var message: String
    /// How to fix it, when there is something useful to say.
    public var hint: String?

    /// An error at `location`.
    public init(_ location: SourceLocation, _ message: String, hint: String? = nil) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    /// `path:line:col: error: message (hint: ...)`; the hint part is left out when there is none.
    public var description: String {
        if let hint { return "\(location): error: \(message) (hint: \(hint))" }
        return "\(location): error: \(message)"
    }
}
