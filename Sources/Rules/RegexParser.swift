/// Why a `content` pattern was refused: the scalar offset in the pattern, a message and a hint.
struct RegexSyntaxError: Error, Sendable, Equatable {
    var offset: Int
    var message: String
    var hint: String?
}

/// Parses the PCRE-like subset that the linear-time matcher runs: literals and escapes, `.`,
/// classes `[...]` with ranges and negation, `\d \w \s \D \W \S \b \B`, anchors `^ $ \A \z \Z`,
/// groups (capturing, named or not; captures are not used), inline flags `(?i)` and `(?i:...)`,
/// alternation, the quantifiers `* + ? {n} {n,} {n,m} {,m}` (greedy or lazy) and the flags
/// `i s m x`. Constructs that need backtracking (backreferences, lookaround, atomic groups,
/// possessive quantifiers, conditionals) are refused with a hint.
struct RegexParser {
    private struct Flags {
        var caseless = false, dotAll = false, multiline = false, extended = false
    }

    /// Deepest group nesting accepted (the parser and compiler recurse per level).
    static let maxDepth = 64
    /// Largest `{n,m}` bound accepted.
    static let maxRepeat = 1000

    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var flags = Flags()
    private var depth = 0

    /// Parses `pattern` with `flags` (a subset of `imsx`, already checked by the caller).
    static func parse(_ pattern: String, flags: String) throws(RegexSyntaxError) -> RegexNode {
        var parser = RegexParser(scalars: Array(pattern.unicodeScalars))
        for f in flags.unicodeScalars { parser.set(flag: f, to: true) }
        let node = try parser.alternation()
        if parser.index < parser.scalars.count {
            // Only an unbalanced `)` stops the top-level alternation early.
            throw RegexSyntaxError(offset: parser.index, message: "unbalanced `)`", hint: "write a literal parenthesis as \\)")
        }
        return node
    }

    private init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func set(flag: Unicode.Scalar, to on: Bool) {
        switch flag {
        case "i": flags.caseless = on
        case "s": flags.dotAll = on
        case "m": flags.multiline = on
        case "x": flags.extended = on
        default: break
        }
    }

    private func error(_ message: String, at offset: Int? = nil, hint: String? = nil) -> RegexSyntaxError {
        RegexSyntaxError(offset: offset ?? index, message: message, hint: hint)
    }

    /// With `x`: skips whitespace and `#` comments between items.
    private mutating func skipExtended() {
        guard flags.extended else { return }
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" {
                index += 1
            } else if c == "#" {
                while let d = peek(), d != "\n" { index += 1 }
            } else {
                return
            }
        }
    }

    private mutating func alternation() throws(RegexSyntaxError) -> RegexNode {
        var branches = [try concatenation()]
        while peek() == "|" {
            index += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func concatenation() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        while true {
            skipExtended()
            guard let c = peek(), c != "|", c != ")" else { break }
            let start = index
            // A flag-only group `(?i)` changes the flags of the rest of the enclosing group.
            if c == "(", peek(1) == "?", try inlineFlags() { continue }
            let atom = try self.atom()
            items.append(try quantified(atom, start: start))
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .concat(items)
    }

    /// `(?imsx-imsx)`: sets the flags for the rest of the enclosing group; false (and nothing
    /// read) when the group is something else.
    private mutating func inlineFlags() throws(RegexSyntaxError) -> Bool {
        var i = index + 2
        while i < scalars.count, "imsx-".unicodeScalars.contains(scalars[i]) { i += 1 }
        guard i < scalars.count, scalars[i] == ")", i > index + 2 else { return false }
        try applyFlags(from: index + 2, to: i)
        index = i + 1
        return true
    }

    private mutating func applyFlags(from start: Int, to end: Int) throws(RegexSyntaxError) {
        var on = true
        for i in start..<end {
            let f = scalars[i]
            if f == "-" {
                on = false
            } else {
                set(flag: f, to: on)
            }
        }
    }

    private mutating func quantified(_ atom: RegexNode, start: Int) throws(RegexSyntaxError) -> RegexNode {
        var node = atom
        var quantifiedOnce = false
        while true {
            skipExtended()
            guard let c = peek() else { return node }
            let bounds: (Int, Int?)
            let at = index
            switch c {
            case "*": bounds = (0, nil); index += 1
            case "+": bounds = (1, nil); index += 1
            case "?": bounds = (0, 1); index += 1
            case "{":
                guard let counted = try countedBounds() else { return node }
                bounds = counted
            default: return node
            }
            if quantifiedOnce {
                throw error("multiple repeat: a quantifier follows a quantifier", at: at,
                            hint: "put the repeated part in a group, e.g. (?:a+)*")
            }
            if peek() == "?" {
                index += 1 // lazy: matches the same strings as greedy
            } else if peek() == "+" {
                throw error("possessive quantifiers are not supported", at: index,
                            hint: "remove the `+`; the matcher never backtracks, so it is not needed for speed")
            }
            node = .repetition(node, min: bounds.0, max: bounds.1)
            quantifiedOnce = true
        }
    }

    /// `{n}`, `{n,}`, `{n,m}`, `{,m}`, or nil (and the index unchanged) when the brace is a literal.
    private mutating func countedBounds() throws(RegexSyntaxError) -> (Int, Int?)? {
        var i = index + 1
        func number() -> Int? {
            var value: Int?
            while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                let digit = Int(scalars[i].value) - 48
                value = min((value ?? 0) * 10 + digit, 1_000_000)
                i += 1
            }
            return value
        }
        let low = number()
        var high = low
        var hasComma = false
        if i < scalars.count, scalars[i] == "," {
            hasComma = true
            i += 1
            high = number()
        }
        guard i < scalars.count, scalars[i] == "}" else { return nil }
        if low == nil, !hasComma { return nil } // `{}` is literal; `{,}` is `{0,}` as in Python
        let lower = low ?? 0
        let upper = hasComma ? high : low
        if lower > RegexParser.maxRepeat || (upper ?? 0) > RegexParser.maxRepeat {
            throw error("repeat count over \(RegexParser.maxRepeat)", hint: "use * or + for an unbounded repeat")
        }
        if let upper, upper < lower {
            throw error("repeat range {\(lower),\(upper)} is out of order", hint: "write the smaller bound first")
        }
        index = i + 1
        return (lower, upper)
    }

    private mutating func atom() throws(RegexSyntaxError) -> RegexNode {
        let c = scalars[index]
        switch c {
        case "(": return try group()
        case "[": return try characterClass()
        case ".":
            index += 1
            return .any(dotAll: flags.dotAll)
        case "^":
            index += 1
            return .assertion(flags.multiline ? .lineStart : .textStart)
        case "$":
            index += 1
            return .assertion(flags.multiline ? .lineEnd : .textEndOrFinalNewline)
        case "\\": return try escape()
        case "*", "+", "?":
            throw error("nothing to repeat before `\(c)`", hint: "write a literal \(c) as \\\(c)")
        case "{":
            let at = index
            let bounds = try? countedBounds()
            index = at
            if bounds != nil {
                throw error("nothing to repeat before `{`", hint: "write a literal brace as \\{")
            }
            index += 1
            return literal(c)
        default:
            index += 1
            return literal(c)
        }
    }

    private func literal(_ c: Unicode.Scalar) -> RegexNode {
        let fold = flags.caseless && (ScalarSet.lower(c) != c || ScalarSet.upper(c) != c)
        return .scalar(c, fold: fold)
    }

    private mutating func group() throws(RegexSyntaxError) -> RegexNode {
        let open = index
        index += 1
        let saved = flags
        if peek() == "?" {
            index += 1
            switch peek() {
            case ":":
                index += 1
            case "<" where peek(1) == "=" || peek(1) == "!", "=", "!":
                throw error("lookahead and lookbehind are not supported", at: open,
                            hint: "match the text itself, or use two routes (one with continue = true)")
            case "<", "P", "'":
                if peek() == "P", peek(1) == "=" {
                    throw error("backreferences are not supported", at: open, hint: "the matcher runs in linear time and cannot compare captures")
                }
                if peek() == "P" { index += 1 }
                let close: Unicode.Scalar = peek() == "'" ? "'" : ">"
                guard peek() == "<" || peek() == "'" else { throw error("unsupported group syntax", at: open, hint: "groups are (...), (?:...), (?<name>...) and (?i:...)") }
                index += 1
                let nameStart = index
                while let n = peek(), n != close, ScalarSet.isWord(n) { index += 1 }
                guard peek() == close, index > nameStart else {
                    throw error("malformed group name", at: nameStart, hint: "write (?<name>...)")
                }
                index += 1
            case ">":
                throw error("atomic groups are not supported", at: open, hint: "write (?:...) instead")
            case "(":
                throw error("conditional groups are not supported", at: open, hint: nil)
            case "#":
                while let d = peek(), d != ")" { index += 1 }
                guard peek() == ")" else { throw error("unterminated comment group", at: open, hint: "close it with )") }
                index += 1
                return .empty
            default:
                let flagStart = index
                while let f = peek(), "imsx-".unicodeScalars.contains(f) { index += 1 }
                guard peek() == ":", index > flagStart else {
                    throw error("unsupported group syntax", at: open, hint: "groups are (...), (?:...), (?<name>...) and (?i:...)")
                }
                try applyFlags(from: flagStart, to: index)
                index += 1
            }
        }
        depth += 1
        if depth > RegexParser.maxDepth {
            throw error("groups nested more than \(RegexParser.maxDepth) deep", at: open, hint: nil)
        }
        let inner = try alternation()
        depth -= 1
        flags = saved
        guard peek() == ")" else {
            throw error("missing `)` for the group opened here", at: open, hint: "close the group, or write a literal parenthesis as \\(")
        }
        index += 1
        return inner
    }

    // MARK: escapes

    private enum Escaped {
        case scalar(Unicode.Scalar)
        case builtin(ScalarSet.Builtin, negated: Bool)
        case assertion(RegexAssertion)
    }

    private mutating func escape() throws(RegexSyntaxError) -> RegexNode {
        switch try escapeValue(inClass: false) {
        case .scalar(let c): return literal(c)
        case .builtin(let b, let negated):
            var set = ScalarSet()
            set.builtins = [(b, negated)]
            return .set(set)
        case .assertion(let a): return .assertion(a)
        }
    }

    /// Reads `\X` at the index; inside a class, `\b` is a backspace.
    private mutating func escapeValue(inClass: Bool) throws(RegexSyntaxError) -> Escaped {
        let start = index
        index += 1
        guard let c = peek() else { throw error("pattern ends with a lone backslash", at: start, hint: "write a backslash as \\\\") }
        index += 1
        switch c {
        case "d": return .builtin(.digit, negated: false)
        case "D": return .builtin(.digit, negated: true)
        case "w": return .builtin(.word, negated: false)
        case "W": return .builtin(.word, negated: true)
        case "s": return .builtin(.space, negated: false)
        case "S": return .builtin(.space, negated: true)
        case "n": return .scalar("\n")
        case "t": return .scalar("\t")
        case "r": return .scalar("\r")
        case "f": return .scalar("\u{0C}")
        case "v": return .scalar("\u{0B}")
        case "a": return .scalar("\u{07}")
        case "e": return .scalar("\u{1B}")
        case "0": return .scalar("\u{00}")
        case "b" where inClass: return .scalar("\u{08}")
        case "b": return .assertion(.wordBoundary)
        case "B" where !inClass: return .assertion(.notWordBoundary)
        case "A" where !inClass: return .assertion(.textStart)
        case "z" where !inClass: return .assertion(.textEnd)
        case "Z" where !inClass: return .assertion(.textEndOrFinalNewline)
        case "x", "u": return .scalar(try hexScalar(start: start, fixed: c == "x" ? 2 : 4))
        case "1"..."9", "k", "g":
            throw error("backreferences are not supported", at: start,
                        hint: "the matcher runs in linear time and cannot compare captures; write a digit as [1]")
        case "p", "P":
            throw error("Unicode property classes (\\p{...}) are not supported", at: start,
                        hint: "use \\w, \\d, \\s or a class such as [a-zA-Z]")
        default:
            if c.isASCII, ScalarSet.isWord(c) {
                throw error("unknown escape `\\\(c)`", at: start,
                            hint: "escapes are \\d \\w \\s \\b \\n \\t \\xHH \\u{HHHH}; a backslash before punctuation makes it literal")
            }
            return .scalar(c)
        }
    }

    /// `\xHH`, `\x{H...}`, `\uHHHH` or `\u{H...}`, the index after the `x` or `u`.
    private mutating func hexScalar(start: Int, fixed: Int) throws(RegexSyntaxError) -> Unicode.Scalar {
        var digits = ""
        if peek() == "{" {
            index += 1
            while let d = peek(), d != "}" { digits.unicodeScalars.append(d); index += 1 }
            guard peek() == "}" else { throw error("unterminated \\x{...} escape", at: start, hint: nil) }
            index += 1
        } else {
            for _ in 0..<fixed {
                guard let d = peek() else { break }
                digits.unicodeScalars.append(d)
                index += 1
            }
        }
        guard !digits.isEmpty, digits.count <= 8, let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else {
            throw error("invalid hexadecimal escape", at: start, hint: "write \\x41, \\x{1F600} or \\u00E9")
        }
        return scalar
    }

    // MARK: classes

    private mutating func characterClass() throws(RegexSyntaxError) -> RegexNode {
        let open = index
        index += 1
        var set = ScalarSet()
        set.fold = flags.caseless
        if peek() == "^" {
            set.negated = true
            index += 1
        }
        var first = true
        while true {
            guard let c = peek() else {
                throw error("missing `]` for the class opened here", at: open, hint: "write a literal bracket as \\[")
            }
            if c == "]", !first {
                index += 1
                break
            }
            first = false
            if c == "[" {
                throw error("nested classes and POSIX classes ([:alpha:]) are not supported", at: index,
                            hint: "write a literal bracket inside a class as \\[")
            }
            let itemStart = index
            let low: Unicode.Scalar
            if c == "\\" {
                switch try escapeValue(inClass: true) {
                case .scalar(let s): low = s
                case .builtin(let b, let negated):
                    set.builtins.append((b, negated))
                    if peek() == "-", let next = peek(1), next != "]" {
                        throw error("a class escape cannot start a range", at: itemStart, hint: "write a literal hyphen as \\-")
                    }
                    continue
                case .assertion: throw error("invalid escape in a class", at: itemStart, hint: nil)
                }
            } else {
                low = c
                index += 1
            }
            if peek() == "-", let next = peek(1), next != "]" {
                index += 1
                let high: Unicode.Scalar
                if next == "\\" {
                    guard case .scalar(let s) = try escapeValue(inClass: true) else {
                        throw error("a class escape cannot end a range", at: itemStart, hint: "write a literal hyphen as \\-")
                    }
                    high = s
                } else if next == "[" {
                    throw error("nested classes and POSIX classes ([:alpha:]) are not supported", at: index,
                                hint: "write a literal bracket inside a class as \\[")
                } else {
                    high = next
                    index += 1
                }
                guard low.value <= high.value else {
                    throw error("class range \(low)-\(high) is out of order", at: itemStart, hint: "write the smaller bound first")
                }
                set.ranges.append(low.value...high.value)
            } else {
                set.ranges.append(low.value...low.value)
            }
        }
        return .set(set)
    }
}
