/// A small command-line parser: `--flag value`, `--flag=value`, repeated flags, `--` ends options.
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var switches: Set<String> = []
    var positional: [String] = []
    /// Everything after `--`, verbatim.
    var trailing: [String]? = nil

    func last(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
}

/// A usage error: printed with the usage text, exit 64.
struct UsageError: Error, CustomStringConvertible {
    var description: String
}

enum ArgumentParser {
    /// Parses `args` given the options that take a value and the switches that take none.
    static func parse(_ args: [String], valued: Set<String>, switches: Set<String>) throws(UsageError) -> ParsedArguments {
        var out = ParsedArguments()
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" {
                out.trailing = Array(args[(i + 1)...])
                break
            }
            if a.hasPrefix("--") || (a.hasPrefix("-") && a.count == 2) {
                var name = a
                var inline: String?
                if let eq = a.firstIndex(of: "="), a.hasPrefix("--") {
                    name = String(a[..<eq])
                    inline = String(a[a.index(after: eq)...])
                }
                if valued.contains(name) {
                    let v: String
                    if let inline { v = inline } else {
                        guard i + 1 < args.count else { throw UsageError(description: "option \(name) needs a value") }
                        i += 1
                        v = args[i]
                    }
                    out.values[name, default: []].append(v)
                } else if switches.contains(name), inline == nil {
                    out.switches.insert(name)
                } else if name == "--token" {
                    throw UsageError(description: "tokens are never taken on the command line (they would show in `ps`): use MOJO_TOKEN, --token-file or --token-command")
                } else {
                    var text = "unknown option '\(name)'"
                    if let s = Help.closest(to: name, in: Array(valued.union(switches)).sorted() + ["--help"]) { text += " (did you mean '\(s)'?)" }
                    throw UsageError(description: text)
                }
            } else {
                out.positional.append(a)
            }
            i += 1
        }
        return out
    }

    /// Splits a command string into argv without a shell: whitespace separates words; single and
    /// double quotes group; backslash escapes the next character. No expansion of any kind.
    static func splitWords(_ s: String) throws(UsageError) -> [String] {
        var words: [String] = []
        var cur = ""
        var inWord = false
        var quote: Character?
        var escape = false
        for c in s {
            if escape { cur.append(c); escape = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escape = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
                continue
            }
            if c == "'" || c == "\"" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" || c == "\n" {
                if inWord { words.append(cur); cur = ""; inWord = false }
                continue
            }
            cur.append(c); inWord = true
        }
        if quote != nil || escape { throw UsageError(description: "unbalanced quote or trailing backslash in `\(s)`") }
        if inWord { words.append(cur) }
        return words
    }
}
