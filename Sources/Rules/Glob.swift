/// Shell-style wildcard matching for ids: `*` is any run of characters (also empty), `?` is
/// exactly one; everything else matches itself, case-sensitively. No character classes.
enum Glob {
    /// Whether `pattern` contains a wildcard.
    static func isPattern(_ pattern: String) -> Bool {
        pattern.contains("*") || pattern.contains("?")
    }

    /// Whether `text` matches `pattern` as a whole.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0
        var star = -1, resume = 0
        // Greedy with backtracking to the last `*`: linear in practice, no recursion.
        while ti < t.count {
            if pi < p.count, p[pi] == "*" {
                star = pi
                resume = ti
                pi += 1
            } else if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if star >= 0 {
                pi = star + 1
                resume += 1
                ti = resume
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Whether `text` matches any of `patterns`.
    static func matchesAny(_ patterns: [String], _ text: String) -> Bool {
        patterns.contains { matches($0, text) }
    }
}
