/// Header values out (RFC 5322 with RFC 2047 encoded-words) and in (unfolding, decoding).
///
/// Header injection is impossible by construction: every value written goes through
/// `sanitized`, which turns CR, LF and every other control character into a space, and non-ASCII
/// text is written only inside encoded-words (base64), which cannot contain a line break.
public enum HeaderEncoding {
    /// `text` with every control character (C0, DEL, C1, U+2028/2029) replaced by a space.
    public static func sanitized(_ text: String) -> String {
        var view = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            let v = s.value
            if v < 0x20 || v == 0x7F || (v >= 0x80 && v < 0xA0) || v == 0x2028 || v == 0x2029 {
                view.append(" ")
            } else {
                view.append(s)
            }
        }
        return String(view)
    }

    /// Whether `text` can be written as is in an unstructured header (printable ASCII, and no
    /// `=?` that a reader would take for an encoded-word).
    static func isPlain(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !text.contains("=?")
    }

    /// An unstructured header value (a subject): as is when plain ASCII, otherwise UTF-8 base64
    /// encoded-words of at most 75 characters each, folded (`CRLF SPACE`) between words.
    /// `nameLength` is the header name's length plus ": ", for the first line's budget.
    public static func unstructured(_ text: String) -> String {
        let clean = sanitized(text)
        if isPlain(clean) { return clean }
        return encodedWords(clean)
    }

    /// `text` as encoded-words, split between characters (never inside a UTF-8 sequence).
    public static func encodedWords(_ text: String) -> String {
        // 75 - len("=?UTF-8?B?") - len("?=") = 63 base64 characters: 45 bytes per word.
        var words: [String] = []
        var chunk: [UInt8] = []
        for c in text.unicodeScalars {
            let bytes = Array(String(c).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Base64Codec.encode(chunk) + "?=")
                chunk.removeAll()
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?" + Base64Codec.encode(chunk) + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// A display name for an address header: an atom phrase as is, other ASCII as a quoted
    /// string, non-ASCII as encoded-words.
    public static func displayName(_ name: String) -> String {
        let clean = sanitized(name).trimmed
        if clean.isEmpty { return "" }
        guard isPlain(clean) else { return encodedWords(clean) }
        let atext = clean.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || " !#$%&'*+-/=?^_`{|}~".utf8.contains(b)
        }
        if atext && !clean.contains("  ") { return clean }
        var quoted = "\""
        for c in clean {
            if c == "\"" || c == "\\" { quoted.append("\\") }
            quoted.append(c)
        }
        return quoted + "\""
    }

    /// Decodes encoded-words (B and Q, any charset `Charset` knows) in an unfolded header value;
    /// whitespace between two adjacent encoded-words is dropped, as RFC 2047 §6.2 says.
    public static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var rest = Substring(value)
        var pendingSpace = ""
        var lastWasEncoded = false
        while !rest.isEmpty {
            if let (text, length) = encodedWord(at: rest) {
                if !lastWasEncoded { out += pendingSpace }
                pendingSpace = ""
                out += text
                rest = rest.dropFirst(length)
                lastWasEncoded = true
                continue
            }
            let c = rest.first!
            rest = rest.dropFirst()
            if c == " " || c == "\t" {
                pendingSpace.append(c)
                continue
            }
            out += pendingSpace
            pendingSpace = ""
            out.append(c)
            lastWasEncoded = false
        }
        return out + pendingSpace
    }

    /// The encoded-word at the start of `s`, decoded, and its length in characters.
    private static func encodedWord(at s: Substring) -> (String, Int)? {
        guard s.hasPrefix("=?") else { return nil }
        let parts = s.dropFirst(2).split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[3].hasPrefix("="), parts[0].count < 40, !parts[2].contains(" ") else { return nil }
        var charsetName = String(parts[0])
        if let star = charsetName.firstIndex(of: "*") { charsetName = String(charsetName[..<star]) }  // RFC 2231 language
        let charset = Charset(name: charsetName)
        let payload = Array(parts[2].utf8)
        let bytes: [UInt8]
        switch parts[1].lowercased() {
        case "b": bytes = Base64Codec.decode(payload)
        case "q": bytes = QuotedPrintable.decode(payload.map { $0 == UInt8(ascii: "_") ? 32 : $0 })
        default: return nil
        }
        let length = 2 + parts[0].count + 1 + parts[1].count + 1 + parts[2].count + 2
        return (charset.decode(bytes), length)
    }
}
