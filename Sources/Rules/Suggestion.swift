/// "Did you mean" hints: the closest known word by Levenshtein distance.
public enum Suggestion {
    /// The edit distance between two strings, in Unicode scalars.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var row = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }

    /// The candidate closest to `word`, if it is close enough to be a plausible typo
    /// (at most a third of the word's length, and at least 1, edits away).
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let limit = max(1, word.unicodeScalars.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(word.lowercased(), candidate.lowercased())
            if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// `did you mean `x`?` when there is a close candidate, else the list of valid choices.
    public static func hint(for word: String, in candidates: [String], noun: String = "keys") -> String {
        if let match = closest(to: word, in: candidates) { return "did you mean `\(match)`?" }
        return "valid \(noun) are " + candidates.joined(separator: ", ")
    }
}
