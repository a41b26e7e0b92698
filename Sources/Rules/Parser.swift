/// Builds statements from tokens, recovering after errors so that one file yields all of them.
///
/// The grammar is in `Config/GRAMMAR.md`; blocks do not nest, so recovery is simple: skip to
/// the next `key =` or the closing brace inside a block, to the next `word {` outside one.
struct Parser {
    private let tokens: [Token]
    private let directory: String
    private var position = 0
    /// Errors found so far (the lexer's come first).
    private(set) var errors: [ConfigError]

    /// Parses `text`, read from `file`.
    static func parse(text: String, file: String) -> (statements: [SyntaxStatement], errors: [ConfigError]) {
        var lexer = Lexer(text: text, file: file)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, directory: ConfigPath.directory(of: file), errors: lexer.errors)
        let statements = parser.parseFile()
        return (statements, parser.errors)
    }

    private init(tokens: [Token], directory: String, errors: [ConfigError]) {
        self.tokens = tokens
        self.directory = directory
        self.errors = errors
    }

    private var current: Token { tokens[position] }
    private func peek(_ offset: Int) -> Token { tokens[min(position + offset, tokens.count - 1)] }
    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    private mutating func parseFile() -> [SyntaxStatement] {
        var statements: [SyntaxStatement] = []
        while current.kind != .end {
            guard case .word(let kind) = current.kind else {
                errors.append(ConfigError(current.location, "expected a block such as `route name {` or `include`, found \(current.summary)",
                                          hint: "blocks are server, tenant, sink, route, admin, spool, log"))
                skipToNextBlock()
                continue
            }
            let start = current.location
            advance()
            if kind == "include" {
                if case .string(let pattern) = current.kind {
                    statements.append(.include(pattern, start))
                    advance()
                } else {
                    errors.append(ConfigError(current.location, "expected a quoted path after `include`, found \(current.summary)",
                                              hint: "include \"rules.d/*.rules\""))
                    skipToNextBlock()
                }
                continue
            }
            var name: String?
            var nameLocation: SourceLocation?
            switch current.kind {
            case .word(let w), .string(let w):
                name = w
                nameLocation = current.location
                advance()
            case .number(let n):
                name = String(n)
                nameLocation = current.location
                advance()
            default: break
            }
            guard current.kind == .leftBrace else {
                errors.append(ConfigError(current.location, "expected `{` to open block `\(kind)`, found \(current.summary)",
                                          hint: "a block is `kind [name] { key = value ... }`"))
                skipToNextBlock()
                continue
            }
            advance()
            let entries = parseEntries()
            statements.append(.block(SyntaxBlock(kind: kind, location: start, name: name, nameLocation: nameLocation,
                                                 entries: entries, directory: directory)))
        }
        return statements
    }

    private mutating func parseEntries() -> [SyntaxEntry] {
        var entries: [SyntaxEntry] = []
        while true {
            switch current.kind {
            case .rightBrace:
                advance()
                return entries
            case .end:
                errors.append(ConfigError(current.location, "unexpected end of file inside a block", hint: "close the block with `}`"))
                return entries
            case .word(let key):
                let keyLocation = current.location
                advance()
                guard current.kind == .equals else {
                    errors.append(ConfigError(current.location, "expected `=` after `\(key)`, found \(current.summary)",
                                              hint: "write `\(key) = value`"))
                    recoverInBlock()
                    continue
                }
                advance()
                if let value = parseValue() {
                    entries.append(SyntaxEntry(key: key, keyLocation: keyLocation, value: value))
                } else {
                    recoverInBlock()
                }
            default:
                errors.append(ConfigError(current.location, "expected a key or `}`, found \(current.summary)",
                                          hint: "entries are `key = value`; blocks do not nest"))
                advance()
                recoverInBlock()
            }
        }
    }

    /// How deeply lists and references may nest. Values are parsed (and later destroyed)
    /// recursively; the bound keeps hostile input from overflowing the stack.
    static let maxNesting = 32

    private mutating func parseValue(depth: Int = 0) -> SyntaxValue? {
        let token = current
        if depth >= Parser.maxNesting {
            errors.append(ConfigError(token.location, "value nested too deeply (more than \(Parser.maxNesting) levels)",
                                      hint: "lists and references nest at most \(Parser.maxNesting) deep"))
            return nil
        }
        switch token.kind {
        case .string(let s): advance(); return SyntaxValue(kind: .string(s), location: token.location)
        case .word(let w): advance(); return SyntaxValue(kind: .word(w), location: token.location)
        case .number(let n): advance(); return SyntaxValue(kind: .number(n), location: token.location)
        case .quantity(let n, let unit): advance(); return SyntaxValue(kind: .quantity(n, unit: unit), location: token.location)
        case .regex(let p, let f): advance(); return SyntaxValue(kind: .regex(pattern: p, flags: f), location: token.location)
        case .scheme(let scheme):
            advance()
            guard let argument = parseValue(depth: depth + 1) else { return nil }
            return SyntaxValue(kind: .reference(scheme: scheme, argument: argument), location: token.location)
        case .leftBracket:
            advance()
            var items: [SyntaxValue] = []
            while current.kind != .rightBracket {
                guard let item = parseValue(depth: depth + 1) else { return nil }
                items.append(item)
                if current.kind == .comma {
                    advance()
                } else if current.kind != .rightBracket {
                    errors.append(ConfigError(current.location, "expected `,` or `]` in list, found \(current.summary)",
                                              hint: "separate list items with commas"))
                    return nil
                }
            }
            advance()
            return SyntaxValue(kind: .list(items), location: token.location)
        default:
            errors.append(ConfigError(token.location, "expected a value, found \(token.summary)",
                                      hint: "a value is a \"string\", a word, a number, a duration, a size, a [list], a /regex/ or env:/file:/command:"))
            return nil
        }
    }

    /// Skips to the next `key =` or to the block's closing brace.
    private mutating func recoverInBlock() {
        while true {
            switch current.kind {
            case .end, .rightBrace: return
            case .word where peek(1).kind == .equals: return
            default: advance()
            }
        }
    }

    /// Skips to the next word that could start a block at the top level.
    private mutating func skipToNextBlock() {
        var depth = 0
        while current.kind != .end {
            switch current.kind {
            case .leftBrace: depth += 1
            case .rightBrace:
                depth -= 1
                if depth <= 0 {
                    advance()
                    return
                }
            case .word where depth == 0 && position > 0:
                if peek(1).kind == .leftBrace || peek(2).kind == .leftBrace { return }
            default: break
            }
            advance()
        }
    }
}
