/// A position in a configuration or rule file: the file as it was named (after include
/// resolution), a 1-based line and a 1-based column counted in Unicode scalars.
public struct SourceLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The file, as resolved by the loader (relative to the working directory or absolute).
    public var file: String
    /// The line, starting at 1.
    public var line: Int
    /// The column, starting at 1, in Unicode scalars.
    public var column: Int

    /// A location from its parts.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`, the prefix of every diagnostic.
    public var description: String { "\(file):\(line):\(column)" }

    /// The same position moved `offset` columns to the right.
    func advanced(by offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + offset)
    }
}
