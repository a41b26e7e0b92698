import JSON

/// How a rendered template is made safe for where it goes.
///
/// - ``json``: every substituted value is escaped as the *contents* of a JSON string (no quotes
///   added: write `"text": "{content}"`); the template's own text is left as written.
/// - ``line``: the whole result is one line: CR LF, CR, LF, U+0085, U+2028 and U+2029 each become
///   one space; tab and other control characters become a space too. Lossy on purpose: use the
///   `json` format when line breaks matter.
/// - ``header``: a mail header value: line breaks become one space and other control characters
///   are removed, so nothing can start a new header; if the result is not plain ASCII (or looks
///   like an encoded word), it is sent as RFC 2047 `=?UTF-8?B?...?=` encoded words of at most
///   75 characters, split between characters, separated by spaces.
/// - ``body``: mail body text: line breaks normalised to CR LF, control characters other than
///   tab removed. Dot-stuffing and line-length encoding are the SMTP layer's job.
public enum TemplateEscaping: String, Sendable, CaseIterable {
    case json, line, header, body

    static func jsonStringContents(_ value: String) -> String {
        var bytes: [UInt8] = []
        JSONScanner.appendEscaped(value, into: &bytes)
        return String(decoding: bytes.dropFirst().dropLast(), as: UTF8.self)
    }

    /// Applies the whole-output part of the escaping (nothing for JSON).
    func finish(_ text: String) -> String {
        switch self {
        case .json: return text
        case .line: return TemplateEscaping.oneLine(text, control: " ")
        case .header: return TemplateEscaping.headerValue(text)
        case .body: return TemplateEscaping.mailBody(text)
        }
    }

    private static func isLineBreak(_ c: Unicode.Scalar) -> Bool {
        c == "\n" || c == "\r" || c.value == 0x85 || c.value == 0x2028 || c.value == 0x2029
    }

    private static func isControl(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x20 || (0x7F...0x9F).contains(c.value)
    }

    /// Line breaks (CR LF counted once) become a space; other controls become `control`.
    static func oneLine(_ text: String, control: String) -> String {
        var out = String.UnicodeScalarView()
        var previous: Unicode.Scalar?
        for c in text.unicodeScalars {
            defer { previous = c }
            if c == "\n", previous == "\r" { continue }
            if isLineBreak(c) {
                out.append(" ")
            } else if isControl(c) {
                out.append(contentsOf: control.unicodeScalars)
            } else {
                out.append(c)
            }
        }
        return String(out)
    }

    static func headerValue(_ text: String) -> String {
        let flat = oneLine(text, control: "")
        let plain = flat.unicodeScalars.allSatisfy { $0.isASCII } && !flat.contains("=?")
        if plain { return flat }
        var words: [String] = []
        var chunk: [UInt8] = []
        for c in flat.unicodeScalars {
            let encoded = Array(String(c).utf8)
            // 45 bytes encode to 60 base64 characters: 60 + 12 of `=?UTF-8?B?` `?=` = 72 <= 75.
            if chunk.count + encoded.count > 45 {
                words.append("=?UTF-8?B?" + base64(chunk) + "?=")
                chunk = []
            }
            chunk += encoded
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + base64(chunk) + "?=") }
        return words.joined(separator: " ")
    }

    static func mailBody(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var previous: Unicode.Scalar?
        for c in text.unicodeScalars {
            defer { previous = c }
            if c == "\n", previous == "\r" { continue }
            if isLineBreak(c) {
                out.append("\r")
                out.append("\n")
            } else if c == "\t" || !isControl(c) {
                out.append(c)
            }
        }
        return String(out)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
