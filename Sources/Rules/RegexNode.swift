/// A parsed `content` regular expression: the subset of PCRE that ``RegexParser`` accepts,
/// with the flags (`i`, `s`, `m`) already applied to each node.
indirect enum RegexNode: Sendable, Equatable {
    /// Matches the empty string.
    case empty
    /// One scalar; `fold` compares without case.
    case scalar(Unicode.Scalar, fold: Bool)
    /// `.`: any scalar but `\n`, or any scalar at all with `dotAll` (flag `s`).
    case any(dotAll: Bool)
    /// A class such as `[a-z]`, `\d` or `[^\s,]`.
    case set(ScalarSet)
    /// A zero-width assertion: `^`, `$`, `\b`, ...
    case assertion(RegexAssertion)
    /// The items one after another.
    case concat([RegexNode])
    /// Any one of the branches.
    case alternation([RegexNode])
    /// `node{min,max}`; `max == nil` is unbounded. Greedy and lazy match the same strings.
    case repetition(RegexNode, min: Int, max: Int?)
}

/// The zero-width assertions of the supported syntax.
enum RegexAssertion: Sendable, Equatable {
    /// `^` without `m`, `\A`: the start of the text.
    case textStart
    /// `$` without `m`, `\Z`: the end of the text or before a final `\n`.
    case textEndOrFinalNewline
    /// `\z`: the very end of the text.
    case textEnd
    /// `^` with `m`: the start of the text or after a `\n`.
    case lineStart
    /// `$` with `m`: the end of the text or before a `\n`.
    case lineEnd
    /// `\b`.
    case wordBoundary
    /// `\B`.
    case notWordBoundary
}

/// A set of scalars: ranges plus the class escapes `\d \w \s` (and their negations), possibly
/// negated as a whole (`[^...]`), possibly compared without case.
struct ScalarSet: Sendable, Equatable {
    /// A class escape: `\d`, `\w` or `\s`.
    enum Builtin: Sendable, Equatable {
        case digit, word, space

        func contains(_ c: Unicode.Scalar) -> Bool {
            switch self {
            case .digit: return ScalarSet.isDigit(c)
            case .word: return ScalarSet.isWord(c)
            case .space: return ScalarSet.isSpace(c)
            }
        }
    }

    var ranges: [ClosedRange<UInt32>] = []
    /// Builtins with whether each is negated (`\D` is `(.digit, true)`).
    var builtins: [(Builtin, Bool)] = []
    var negated = false
    var fold = false

    static func == (a: ScalarSet, b: ScalarSet) -> Bool {
        a.ranges == b.ranges && a.negated == b.negated && a.fold == b.fold
            && a.builtins.map(\.0) == b.builtins.map(\.0) && a.builtins.map(\.1) == b.builtins.map(\.1)
    }

    func contains(_ c: Unicode.Scalar) -> Bool {
        var found = containsExactly(c)
        if !found, fold {
            let lower = ScalarSet.lower(c), upper = ScalarSet.upper(c)
            found = (lower != c && containsExactly(lower)) || (upper != c && containsExactly(upper))
        }
        return found != negated
    }

    private func containsExactly(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        for range in ranges where range.contains(v) { return true }
        for (builtin, negated) in builtins where builtin.contains(c) != negated { return true }
        return false
    }

    // The character classes follow Python's `re` on `str` (the oracle of the tests):
    // Unicode-aware `\d`, `\w` and `\s`, simple one-scalar case mappings.

    static func isDigit(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return ("0"..."9").contains(c) }
        return c.properties.generalCategory == .decimalNumber
    }

    static func isWord(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return c.properties.numericType != nil
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20: return true
        case 0..<0x80: return false
        default: return c.properties.isWhitespace
        }
    }

    static func lower(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.isASCII {
            return ("A"..."Z").contains(c) ? Unicode.Scalar(c.value + 32)! : c
        }
        let mapped = c.properties.lowercaseMapping.unicodeScalars
        return mapped.count == 1 ? mapped.first! : c
    }

    static func upper(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.isASCII {
            return ("a"..."z").contains(c) ? Unicode.Scalar(c.value - 32)! : c
        }
        let mapped = c.properties.uppercaseMapping.unicodeScalars
        return mapped.count == 1 ? mapped.first! : c
    }

    /// Whether `a` and `b` are the same scalar ignoring case.
    static func equalFolded(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool {
        a == b || lower(a) == lower(b) || upper(a) == upper(b)
    }
}
