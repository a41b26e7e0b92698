/// Splits configuration text into tokens, collecting errors and carrying on past them.
///
/// Whitespace and newlines separate tokens and are otherwise insignificant; `#` starts a
/// comment that runs to the end of the line (outside strings and regular expressions).
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1
    private var lineStart = 0
    /// Errors found so far.
    private(set) var errors: [ConfigError] = []

    init(text: String, file: String) {
        self.scalars = Array(text.unicodeScalars)
        self.file = file
    }

    /// Every token of the text, ending with `.end`.
    mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = next(afterScheme: tokens.last.map { if case .scheme = $0.kind { true } else { false } } ?? false)
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private var location: SourceLocation {
        SourceLocation(file: file, line: line, column: index - lineStart + 1)
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func advance() {
        if scalars[index] == "\n" {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    static func isWordScalar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".": return true
        default: return false
        }
    }

    private mutating func skipSpaceAndComments() {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                advance()
            } else if c == "#" {
                while let d = peek(), d != "\n" { advance() }
            } else {
                return
            }
        }
    }

    private mutating func next(afterScheme: Bool) -> Token {
        if afterScheme, let c = peek(), c != "\"", c != "[", c != " ", c != "\t", c != "\n", c != "\r" {
            return bareArgument()
        }
        // A loop, not recursion, past unexpected characters: a long run of them must not
        // overflow the stack. A run of them is one error.
        while true {
            skipSpaceAndComments()
            let start = location
            guard let c = peek() else { return Token(kind: .end, location: start) }
            let single: Token.Kind?
            switch c {
            case "{": single = .leftBrace
            case "}": single = .rightBrace
            case "[": single = .leftBracket
            case "]": single = .rightBracket
            case ",": single = .comma
            case "=": single = .equals
            default: single = nil
            }
            if let single {
                advance()
                return Token(kind: single, location: start)
            }
            if c == "\"" { return Token(kind: .string(string()), location: start) }
            if c == "/" { return regex() }
            if Lexer.isWordScalar(c) { return word() }
            errors.append(ConfigError(start, "unexpected character `\(c)`",
                                      hint: "values are strings in double quotes, words, numbers, lists in [ ] or /regex/"))
            advance()
            while let d = peek(), Lexer.isUnexpected(d) { advance() }
        }
    }

    /// Whether `c` starts no token (and is not space or a comment).
    static func isUnexpected(_ c: Unicode.Scalar) -> Bool {
        !(isWordScalar(c) || "{}[],=\"/# \t\r\n".unicodeScalars.contains(c))
    }

    /// The argument of `env:` or `file:` written without quotes: everything up to a space,
    /// a comma, a closing bracket or brace, or a comment.
    private mutating func bareArgument() -> Token {
        let start = location
        var text = ""
        while let c = peek(), !" \t\r\n,]}#\"".unicodeScalars.contains(c) {
            text.unicodeScalars.append(c)
            advance()
        }
        return Token(kind: .word(text), location: start)
    }

    private mutating func word() -> Token {
        let start = location
        var text = ""
        while let c = peek(), Lexer.isWordScalar(c) {
            text.unicodeScalars.append(c)
            advance()
        }
        if peek() == ":", text.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) }) {
            advance()
            return Token(kind: .scheme(text), location: start)
        }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty {
            let rest = text.dropFirst(digits.count)
            let isQuantity = !rest.isEmpty && rest.allSatisfy({ $0.isASCII && $0.isLetter })
            if rest.isEmpty || isQuantity {
                // A number too large for Int is reported here, once; the token carries 0 so that
                // the reader does not report the same value again.
                let value = Int(digits) ?? 0
                if Int(digits) == nil {
                    errors.append(ConfigError(start, "number `\(digits)` is too large",
                                              hint: "durations are at most 365d, sizes at most 1024GiB"))
                }
                if rest.isEmpty { return Token(kind: .number(value), location: start) }
                return Token(kind: .quantity(value, unit: String(rest)), location: start)
            }
        }
        return Token(kind: .word(text), location: start)
    }

    private mutating func string() -> String {
        let start = location
        advance()
        var text = ""
        while let c = peek() {
            if c == "\"" {
                advance()
                return text
            }
            if c == "\n" { break }
            if c == "\\" {
                let escapeLocation = location
                advance()
                switch peek() {
                case "\"": text += "\""
                case "\\": text += "\\"
                case "n": text += "\n"
                case "t": text += "\t"
                case let other?:
                    if other == "\n" { continue }
                    errors.append(ConfigError(escapeLocation, "unknown escape `\\\(other)` in string",
                                              hint: "the escapes are \\\" \\\\ \\n \\t"))
                case nil: continue
                }
                advance()
                continue
            }
            text.unicodeScalars.append(c)
            advance()
        }
        errors.append(ConfigError(start, "unterminated string", hint: "close it with `\"` on the same line"))
        return text
    }

    private mutating func regex() -> Token {
        let start = location
        advance()
        var pattern = ""
        while let c = peek(), c != "\n" {
            if c == "/" {
                advance()
                var flags = ""
                while let f = peek(), ("a"..."z").contains(f) {
                    flags.unicodeScalars.append(f)
                    advance()
                }
                return Token(kind: .regex(pattern: pattern, flags: flags), location: start)
            }
            if c == "\\", let n = peek(1), n == "/" {
                // `\/` is a slash inside the pattern, not its end.
                pattern += "/"
                advance()
                advance()
                continue
            }
            pattern.unicodeScalars.append(c)
            advance()
        }
        errors.append(ConfigError(start, "unterminated regular expression",
                                  hint: "close it with `/` on the same line; write a slash inside it as `\\/`"))
        return Token(kind: .regex(pattern: pattern, flags: ""), location: start)
    }
}
