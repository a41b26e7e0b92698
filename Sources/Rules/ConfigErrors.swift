/// Every problem found in one load, in the order found (file order, includes in place,
/// cross-reference errors last). `Result` needs an `Error`, and an array is not one.
public struct ConfigErrors: Error, Sendable, Equatable, RandomAccessCollection, CustomStringConvertible {
    /// The errors.
    public var errors: [ConfigError]

    /// A list of errors.
    public init(_ errors: [ConfigError]) { self.errors = errors }

    /// The first index.
    public var startIndex: Int { errors.startIndex }
    /// One past the last index.
    public var endIndex: Int { errors.endIndex }
    /// The error at `index`.
    public subscript(index: Int) -> ConfigError { errors[index] }

    /// One line per error, as `mojo-bridge check` prints them.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
