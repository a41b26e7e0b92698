/// Reads a file and, depth first and in place, the files it includes, collecting their blocks.
///
/// `include "PATH"` is resolved against the directory of the including file. A `*` (or `?`) in
/// the last path component makes it a pattern: the directory is listed, hidden files are
/// skipped, matches are read in byte order, and no match is not an error. Wildcards in the
/// directory part, missing files, a file included twice and include cycles are errors.
struct IncludeResolver {
    let env: ConfigEnvironment
    private(set) var blocks: [SyntaxBlock] = []
    private(set) var files: [String] = []
    private(set) var errors: [ConfigError] = []
    private var stack: [String] = []
    private var includedAt: [String: SourceLocation] = [:]

    init(env: ConfigEnvironment) { self.env = env }

    /// Reads and processes `path`; `from` is the `include` that names it (nil for the main file).
    mutating func load(path: String, from: SourceLocation?) {
        let at = from ?? SourceLocation(file: path, line: 1, column: 1)
        if let cycleStart = stack.firstIndex(of: path) {
            let chain = (stack[cycleStart...] + [path]).joined(separator: " -> ")
            errors.append(ConfigError(at, "include cycle: \(chain)", hint: "remove one of these includes"))
            return
        }
        if let first = includedAt[path] {
            errors.append(ConfigError(at, "\(path) is already included", hint: "first included at \(first)"))
            return
        }
        includedAt[path] = at
        let bytes: [UInt8]
        switch env.readFile(path) {
        case .success(let b): bytes = b
        case .failure(let reason):
            errors.append(ConfigError(at, "cannot read \(path): \(reason)",
                                      hint: from == nil ? "check the --config path" : "include paths are relative to the including file"))
            return
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            errors.append(ConfigError(at, "\(path) is not valid UTF-8", hint: "save the file as UTF-8"))
            return
        }
        load(text: text, path: path)
    }

    /// Processes `text` read from `path`.
    mutating func load(text: String, path: String) {
        files.append(path)
        includedAt[path] = includedAt[path] ?? SourceLocation(file: path, line: 1, column: 1)
        stack.append(path)
        defer { stack.removeLast() }
        let (statements, parseErrors) = Parser.parse(text: text, file: path)
        errors += parseErrors
        for statement in statements {
            switch statement {
            case .block(let block): blocks.append(block)
            case .include(let pattern, let location): include(pattern, at: location, from: path)
            }
        }
    }

    private mutating func include(_ pattern: String, at location: SourceLocation, from path: String) {
        let resolved = ConfigPath.resolve(pattern, against: ConfigPath.directory(of: path))
        let directory = ConfigPath.directory(of: resolved)
        let name = ConfigPath.fileName(of: resolved)
        if Glob.isPattern(directory) {
            errors.append(ConfigError(location, "wildcards are allowed only in the file name of an include",
                                      hint: "write include \"dir/*.rules\", not include \"*/x.rules\""))
            return
        }
        guard Glob.isPattern(name) else {
            load(path: resolved, from: location)
            return
        }
        switch env.listDirectory(directory) {
        case .failure(let reason):
            errors.append(ConfigError(location, "cannot list \(directory): \(reason)",
                                      hint: "include paths are relative to the including file"))
        case .success(let entries):
            let matches = entries.filter { (!$0.hasPrefix(".") || name.hasPrefix(".")) && Glob.matches(name, $0) }
            for entry in matches.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                load(path: ConfigPath.resolve(entry, against: directory), from: location)
            }
        }
    }
}
