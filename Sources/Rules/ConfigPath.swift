/// Pure path arithmetic for resolving relative paths against the file that names them.
enum ConfigPath {
    /// The directory part of `path` (`.` for a bare name, `/` for a top-level file).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `path` if absolute, else `path` appended to `directory`; then `.` and `..` removed lexically.
    static func resolve(_ path: String, against directory: String) -> String {
        let joined: String
        if path.hasPrefix("/") || directory == "." || directory.isEmpty {
            joined = path
        } else {
            joined = directory.hasSuffix("/") ? directory + path : directory + "/" + path
        }
        return normalize(joined)
    }

    /// Removes `.` components and folds `name/..`, keeping leading `..` of relative paths.
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == "..", absolute {
                continue
            } else {
                parts.append(part)
            }
        }
        let body = parts.joined(separator: "/")
        if absolute { return "/" + body }
        return body.isEmpty ? "." : body
    }
}
