/// Renders key/value pairs as one logfmt or JSON line, redacting secrets.
enum LineRenderer {
    /// Keys whose values are never printed.
    static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return k.contains("token") || k.contains("secret") || k.contains("password")
            || k.contains("authorization") || k == "auth" || k.contains("cookie") || k.hasSuffix("key")
    }

    static func logfmt(_ pairs: [(String, String)], into out: inout [UInt8]) {
        var first = true
        for (key, raw) in pairs {
            if !first { out.append(0x20) }
            first = false
            out.append(contentsOf: key.utf8)
            out.append(UInt8(ascii: "="))
            let value = isSecret(key) ? "[redacted]" : raw
            let needsQuotes = value.isEmpty || value.utf8.contains { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\\") }
            if needsQuotes {
                out.append(UInt8(ascii: "\""))
                escape(value, into: &out)
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(contentsOf: value.utf8)
            }
        }
    }

    static func json(_ pairs: [(String, String)], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, raw) in pairs {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            escape(key, into: &out)
            out.append(contentsOf: "\":\"".utf8)
            escape(isSecret(key) ? "[redacted]" : raw, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// JSON-style escaping; also safe inside logfmt quotes. Control characters never reach the terminal raw.
    static func escape(_ s: String, into out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
    }
}
