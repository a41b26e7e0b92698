extension BlockReader {
    /// A secret reference; a literal value is refused. `env:` must be set and `file:` readable
    /// in the injected environment; `command:` is only checked for shape (never run by `check`).
    mutating func secret(_ key: String, allowCommand: Bool, required: Bool) -> SecretRef? {
        guard let value = entry(key)?.value else {
            if required {
                fail(block.location, "`\(title)` is missing `\(key)`", hint: "add `\(key) = env:NAME` or `\(key) = file:PATH`")
            }
            return nil
        }
        return secret(key, value, allowCommand: allowCommand)
    }

    /// One reference or a list of them (for rotation), `env:`/`file:` only.
    mutating func secrets(_ key: String) -> [SecretRef] {
        guard let value = entry(key)?.value else { return [] }
        if case .list(let items) = value.kind {
            return items.compactMap { secret(key, $0, allowCommand: false) }
        }
        return secret(key, value, allowCommand: false).map { [$0] } ?? []
    }

    private mutating func secret(_ key: String, _ value: SyntaxValue, allowCommand: Bool) -> SecretRef? {
        let forms = allowCommand ? "env:NAME, file:PATH or command:[\"prog\", \"arg\"]" : "env:NAME or file:PATH"
        guard case .reference(let scheme, let argument) = value.kind else {
            if case .string = value.kind {
                fail(value.location, "`\(key)` must not be written in the file",
                     hint: "secrets are given by reference: \(forms)")
            } else {
                fail(value.location, "`\(key)` must be a secret reference, found \(value.summary)", hint: "use \(forms)")
            }
            return nil
        }
        switch (scheme, argument.kind) {
        case ("env", .word(let name)), ("env", .string(let name)):
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ Lexer.isWordScalar($0) && $0 != "-" && $0 != "." }) else {
                fail(argument.location, "`\(name)` is not an environment variable name", hint: "env:NAME with letters, digits and _")
                return nil
            }
            if env.verifiesReferences, env.environment(name) == nil {
                fail(value.location, "environment variable \(name) is not set", hint: "export \(name) before starting, or use file:PATH")
            }
            return .env(name)
        case ("file", .word(let path)), ("file", .string(let path)):
            let resolved = ConfigPath.resolve(path, against: block.directory)
            if env.verifiesReferences, case .failure(let reason) = env.readFile(resolved) {
                fail(value.location, "cannot read secret file \(resolved): \(reason)",
                     hint: "paths are relative to the directory of the file they are written in")
            }
            return .file(resolved)
        case ("command", .list(let items)) where allowCommand:
            var argv: [String] = []
            for item in items {
                guard case .string(let s) = item.kind else {
                    fail(item.location, "command arguments must be strings, found \(item.summary)", hint: "command:[\"prog\", \"arg\"]")
                    return nil
                }
                argv.append(s)
            }
            guard let first = argv.first else {
                fail(value.location, "`command:` needs a program", hint: "command:[\"prog\", \"arg\"]")
                return nil
            }
            if first.contains("/"), !first.hasPrefix("/") {
                argv[0] = ConfigPath.resolve(first, against: block.directory)
            }
            return .command(argv)
        case ("command", _) where allowCommand:
            fail(argument.location, "`command:` takes a list of strings", hint: "command:[\"prog\", \"arg\"]")
            return nil
        case ("env", _), ("file", _):
            fail(argument.location, "`\(scheme):` takes a name or path, found \(argument.summary)", hint: "use \(forms)")
            return nil
        default:
            let known = allowCommand ? ["env", "file", "command"] : ["env", "file"]
            fail(value.location, "`\(scheme):` is not a valid reference for `\(key)`",
                 hint: Suggestion.closest(to: scheme, in: known).map { "did you mean `\($0):`?" } ?? "use \(forms)")
            return nil
        }
    }
}
