/// One lexical token of the configuration language, with where it starts.
struct Token: Sendable, Equatable {
    /// What kind of token, with its decoded content.
    enum Kind: Sendable, Equatable {
        /// A bare word: identifiers, enum values, `true`/`false`, or the argument of a reference.
        case word(String)
        /// A double-quoted string, escapes decoded.
        case string(String)
        /// A plain non-negative integer.
        case number(Int)
        /// An integer with a unit suffix: a duration (`5s`) or a size (`64KiB`).
        case quantity(Int, unit: String)
        /// A regular expression literal `/pattern/flags`; the pattern is kept as written.
        case regex(pattern: String, flags: String)
        /// The prefix of a reference such as `env:`, `file:` or `command:`.
        case scheme(String)
        case leftBrace, rightBrace, leftBracket, rightBracket, comma, equals
        /// The end of the file.
        case end
    }

    var kind: Kind
    var location: SourceLocation

    /// How the token is named in "expected ..., found ..." messages.
    var summary: String {
        switch kind {
        case .word(let w): return "`\(w)`"
        case .string: return "a string"
        case .number(let n): return "the number \(n)"
        case .quantity(let n, let unit): return "`\(n)\(unit)`"
        case .regex: return "a regular expression"
        case .scheme(let s): return "`\(s):`"
        case .leftBrace: return "`{`"
        case .rightBrace: return "`}`"
        case .leftBracket: return "`[`"
        case .rightBracket: return "`]`"
        case .comma: return "`,`"
        case .equals: return "`=`"
        case .end: return "the end of the file"
        }
    }
}
