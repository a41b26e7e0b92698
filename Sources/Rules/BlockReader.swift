/// Gives the entries of one block their meaning: typed accessors that record an error (with a
/// hint) for every missing key, wrong type or bad value, then `finish()` for unknown keys.
struct BlockReader {
    let block: SyntaxBlock
    let env: ConfigEnvironment
    private(set) var errors: [ConfigError] = []
    private var allowed: [String]
    private var entries: [String: SyntaxEntry] = [:]

    init(block: SyntaxBlock, allowed: [String], env: ConfigEnvironment) {
        self.block = block
        self.allowed = allowed
        self.env = env
        for entry in block.entries {
            if let first = entries[entry.key] {
                errors.append(ConfigError(entry.keyLocation, "duplicate key `\(entry.key)`",
                                          hint: "it is already set at line \(first.keyLocation.line); a list takes several values"))
            } else {
                entries[entry.key] = entry
            }
        }
    }

    /// The block as named in messages: `sink hooks`, `server`.
    var title: String { block.name.map { "\(block.kind) \($0)" } ?? block.kind }

    mutating func allow(_ keys: [String]) { allowed += keys }

    mutating func fail(_ location: SourceLocation, _ message: String, hint: String?) {
        errors.append(ConfigError(location, message, hint: hint))
    }

    func entry(_ key: String) -> SyntaxEntry? { entries[key] }

    /// Reports keys that no accessor knows, with the closest valid key as a hint.
    mutating func finish() {
        for entry in block.entries where !allowed.contains(entry.key) {
            fail(entry.keyLocation, "unknown key `\(entry.key)` in `\(title)`",
                 hint: Suggestion.hint(for: entry.key, in: allowed))
        }
    }

    private mutating func missing(_ key: String, example: String) {
        fail(block.location, "`\(title)` is missing `\(key)`", hint: "add `\(key) = \(example)`")
    }

    private mutating func wrongType(_ key: String, _ value: SyntaxValue, expected: String, example: String) {
        fail(value.location, "`\(key)` must be \(expected), found \(value.summary)", hint: "for example `\(key) = \(example)`")
    }

    // MARK: scalars

    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let value = entries[key]?.value else {
            if required { missing(key, example: "\"...\"") }
            return nil
        }
        if case .string(let s) = value.kind { return s }
        wrongType(key, value, expected: "a string in double quotes", example: "\"...\"")
        return nil
    }

    mutating func url(_ key: String, schemes: [String], required: Bool) -> String? {
        guard let text = string(key, required: required), let value = entries[key]?.value else { return nil }
        let scheme = text.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard text.contains("://"), schemes.contains(scheme) else {
            fail(value.location, "`\(key)` must be a URL (\(schemes.joined(separator: ", "))), found \"\(text)\"",
                 hint: "for example \"\(schemes[0])://host:port\"")
            return nil
        }
        return text
    }

    /// A path, resolved against the directory of the file the block is in.
    mutating func path(_ key: String, mustBeReadable: Bool) -> String? {
        guard let text = string(key), let value = entries[key]?.value else { return nil }
        let resolved = ConfigPath.resolve(text, against: block.directory)
        if mustBeReadable, env.verifiesReferences, case .failure(let reason) = env.readFile(resolved) {
            fail(value.location, "cannot read `\(key)` file \(resolved): \(reason)",
                 hint: "paths are relative to the directory of the file they are written in")
        }
        return resolved
    }

    /// A bare word (or string) from `choices`.
    mutating func word(_ key: String, choices: [String], required: Bool = false) -> String? {
        guard let value = entries[key]?.value else {
            if required { missing(key, example: choices.joined(separator: " | ")) }
            return nil
        }
        let text: String
        switch value.kind {
        case .word(let w), .string(let w): text = w
        default:
            wrongType(key, value, expected: "one of " + choices.joined(separator: ", "), example: choices[0])
            return nil
        }
        if choices.contains(text) { return text }
        fail(value.location, "unknown value `\(text)` for `\(key)`", hint: Suggestion.hint(for: text, in: choices, noun: "values"))
        return nil
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, default fallback: E) -> E where E.RawValue == String {
        guard let text = word(key, choices: E.allCases.map(\.rawValue)) else { return fallback }
        return E(rawValue: text) ?? fallback
    }

    mutating func bool(_ key: String, default fallback: Bool) -> Bool {
        guard let value = entries[key]?.value else { return fallback }
        if case .word(let w) = value.kind, w == "true" || w == "false" { return w == "true" }
        wrongType(key, value, expected: "true or false", example: "true")
        return fallback
    }

    mutating func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let value = entries[key]?.value else { return fallback }
        guard case .number(let n) = value.kind else {
            wrongType(key, value, expected: "a whole number", example: "\(fallback)")
            return fallback
        }
        guard range.contains(n) else {
            fail(value.location, "`\(key)` must be between \(range.lowerBound) and \(range.upperBound), found \(n)", hint: nil)
            return fallback
        }
        return n
    }

    mutating func duration(_ key: String, default fallback: Duration) -> Duration {
        guard let value = entries[key]?.value else { return fallback }
        return duration(key, value, default: fallback)
    }

    /// A list of durations (`retry = [0s, 5s, 5m]`); a single value is a list of one.
    mutating func durationList(_ key: String) -> [Duration]? {
        guard let value = entries[key]?.value else { return nil }
        let items: [SyntaxValue]
        if case .list(let list) = value.kind { items = list } else { items = [value] }
        return items.map { duration(key, $0, default: .zero) }
    }

    /// The longest duration any key accepts: 365 days. Durations become milliseconds and
    /// nanoseconds downstream; the bound keeps that arithmetic far from overflow.
    static let maxDurationMilliseconds = 365 * 86_400_000
    /// The largest size any key accepts: 1 TiB.
    static let maxSize = 1 << 40

    private mutating func duration(_ key: String, _ value: SyntaxValue, default fallback: Duration) -> Duration {
        if case .quantity(let n, let unit) = value.kind {
            let perUnit: Int
            switch unit {
            case "ms": perUnit = 1
            case "s": perUnit = 1000
            case "m": perUnit = 60_000
            case "h": perUnit = 3_600_000
            case "d": perUnit = 86_400_000
            default:
                fail(value.location, "unknown duration unit `\(unit)`", hint: "use ms, s, m, h or d, e.g. 30s")
                return fallback
            }
            let (ms, overflow) = n.multipliedReportingOverflow(by: perUnit)
            guard !overflow, ms <= BlockReader.maxDurationMilliseconds else {
                fail(value.location, "`\(key)` is too long: `\(n)\(unit)`", hint: "durations are at most 365d")
                return fallback
            }
            return .milliseconds(ms)
        }
        wrongType(key, value, expected: "a duration", example: "30s")
        return fallback
    }

    mutating func size(_ key: String, default fallback: Int) -> Int {
        guard let value = entries[key]?.value else { return fallback }
        let units = ["B": 1, "KB": 1000, "MB": 1_000_000, "GB": 1_000_000_000,
                     "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30]
        if case .quantity(let n, let unit) = value.kind {
            guard let factor = units[unit] else {
                fail(value.location, "unknown size unit `\(unit)`", hint: "use B, KiB, MiB, GiB (or KB, MB, GB), e.g. 64MiB")
                return fallback
            }
            let (bytes, overflow) = n.multipliedReportingOverflow(by: factor)
            guard !overflow, bytes <= BlockReader.maxSize else {
                fail(value.location, "`\(key)` is too large: `\(n)\(unit)`", hint: "sizes are at most 1024GiB")
                return fallback
            }
            return bytes
        }
        wrongType(key, value, expected: "a size", example: "64MiB")
        return fallback
    }

    // MARK: lists

    /// Strings (or bare words); a single value is a list of one.
    mutating func stringList(_ key: String, required: Bool = false) -> [String]? {
        guard let value = entries[key]?.value else {
            if required { missing(key, example: "[\"...\"]") }
            return nil
        }
        let items: [SyntaxValue]
        if case .list(let list) = value.kind { items = list } else { items = [value] }
        var result: [String] = []
        for item in items {
            switch item.kind {
            case .string(let s), .word(let s): result.append(s)
            case .number(let n): result.append(String(n))
            default: wrongType(key, item, expected: "a string or a list of strings", example: "[\"...\"]")
            }
        }
        return result
    }
}
