/// Small ASCII helpers for HTTP header handling, free of Foundation.
enum ASCII {
    /// `value` with ASCII letters lowercased (other bytes unchanged).
    static func lowercased(_ value: String) -> String {
        String(decoding: value.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Whether `a` and `b` are equal ignoring ASCII case.
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) { x, y in
            (x >= 0x41 && x <= 0x5A ? x | 0x20 : x) == (y >= 0x41 && y <= 0x5A ? y | 0x20 : y)
        }
    }

    /// `value` without leading and trailing spaces and tabs (HTTP optional whitespace).
    static func trimmed(_ value: Substring) -> Substring {
        var result = value
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }

    /// The comma-separated elements of a header value, trimmed, empty ones dropped.
    static func tokens(_ value: String) -> [Substring] {
        value.split(separator: ",").map { trimmed($0) }.filter { !$0.isEmpty }
    }
}
