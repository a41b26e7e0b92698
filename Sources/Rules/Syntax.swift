/// A value as written in a file, before it is given a meaning by the key it belongs to.
struct SyntaxValue: Sendable {
    indirect enum Kind: Sendable {
        case string(String)
        case word(String)
        case number(Int)
        case quantity(Int, unit: String)
        case regex(pattern: String, flags: String)
        case list([SyntaxValue])
        /// `scheme:argument`, e.g. `env:NAME`, `file:PATH`, `command:[...]`.
        case reference(scheme: String, argument: SyntaxValue)
    }

    var kind: Kind
    var location: SourceLocation

    /// How the value is named in type errors ("found a list").
    var summary: String {
        switch kind {
        case .string: return "a string"
        case .word(let w): return w == "true" || w == "false" ? "a boolean" : "the word `\(w)`"
        case .number: return "a number"
        case .quantity(let n, let unit): return "`\(n)\(unit)`"
        case .regex: return "a regular expression"
        case .list: return "a list"
        case .reference(let scheme, _): return "a `\(scheme):` reference"
        }
    }
}

/// `key = value` inside a block.
struct SyntaxEntry: Sendable {
    var key: String
    var keyLocation: SourceLocation
    var value: SyntaxValue
}

/// `kind [name] { entries }` at the top level of a file.
struct SyntaxBlock: Sendable {
    var kind: String
    var location: SourceLocation
    var name: String?
    var nameLocation: SourceLocation?
    var entries: [SyntaxEntry]
    /// The directory of the file the block was read from; relative paths resolve against it.
    var directory: String
}

/// A top-level statement.
enum SyntaxStatement: Sendable {
    /// `include "pattern"`.
    case include(String, SourceLocation)
    case block(SyntaxBlock)
}
