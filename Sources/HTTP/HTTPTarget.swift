/// Splits a request target into a decoded path and query pairs.
enum HTTPTarget {
    /// `(path, query)` for a target already validated by the parser.
    static func split(_ target: String) -> (String, [(String, String)]) {
        if target == "*" { return ("*", []) }
        var rest = Substring(target)
        // Absolute form: drop "scheme://authority", keep what follows.
        if let scheme = rest.firstRange(of: "://") {
            rest = rest[scheme.upperBound...]
            rest = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { rest[$0...] } ?? ""
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let rawPath: Substring
        var rawQuery: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            rawPath = rest[..<mark]
            rawQuery = rest[rest.index(after: mark)...]
        } else {
            rawPath = rest
        }
        let path = rawPath.isEmpty ? "/" : percentDecode(rawPath, plusIsSpace: false)
        let query = rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { pair -> (String, String) in
            guard let equals = pair.firstIndex(of: "=") else { return (percentDecode(pair, plusIsSpace: true), "") }
            return (percentDecode(pair[..<equals], plusIsSpace: true),
                    percentDecode(pair[pair.index(after: equals)...], plusIsSpace: true))
        }
        return (path, query)
    }

    /// Decodes `%XX` escapes (and `+` as space in queries). A malformed escape is kept as is;
    /// bytes that are not UTF-8 become U+FFFD.
    static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of a hexadecimal digit, or `nil`.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
