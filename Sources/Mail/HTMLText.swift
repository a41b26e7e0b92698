/// HTML reduced to readable text, for HTML-only replies: tags dropped, block elements as line
/// breaks, `<blockquote>` content prefixed with `> ` (so the trimmer removes quoted mail),
/// `<script>`, `<style>` and `<head>` dropped, entities decoded.
public enum HTMLText {
    /// The text of `html`.
    public static func plainText(_ html: String) -> String {
        var out = ""
        var quoteDepth = 0
        var skipping: String?
        var atLineStart = true
        var pendingSpace = false
        let scalars = Array(html.unicodeScalars)
        var i = 0
        func newline() {
            out.append("\n")
            atLineStart = true
            pendingSpace = false
        }
        func emit(_ s: String) {
            if atLineStart {
                if quoteDepth > 0 { out += String(repeating: ">", count: quoteDepth) + " " }
                atLineStart = false
            } else if pendingSpace {
                out.append(" ")
            }
            pendingSpace = false
            out += s
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == "<" {
                var j = i + 1
                if j + 2 < scalars.count, scalars[j] == "!", scalars[j + 1] == "-", scalars[j + 2] == "-" {
                    // A comment: up to "-->".
                    var k = j + 3
                    while k + 2 < scalars.count, !(scalars[k] == "-" && scalars[k + 1] == "-" && scalars[k + 2] == ">") { k += 1 }
                    i = min(scalars.count, k + 3)
                    continue
                }
                while j < scalars.count, scalars[j] != ">" { j += 1 }
                let tag = String(String.UnicodeScalarView(scalars[(i + 1)..<min(j, scalars.count)]))
                i = min(scalars.count, j + 1)
                let closing = tag.hasPrefix("/")
                let name = String(tag.drop(while: { $0 == "/" }).prefix(while: { $0.isLetter || $0.isNumber })).lowercased()
                if let s = skipping {
                    if closing && name == s { skipping = nil }
                    continue
                }
                switch name {
                case "script", "style", "head", "title":
                    if !closing && !tag.hasSuffix("/") { skipping = name }
                case "br":
                    newline()
                case "blockquote":
                    if !atLineStart { newline() }
                    quoteDepth = max(0, quoteDepth + (closing ? -1 : 1))
                case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "hr", "pre":
                    if !atLineStart { newline() }
                    if name == "li" && !closing { emit("- ") }
                default:
                    pendingSpace = pendingSpace || name == "td"
                }
                continue
            }
            if skipping != nil { i += 1; continue }
            if c == " " || c == "\n" || c == "\r" || c == "\t" {
                pendingSpace = !atLineStart
                i += 1
                continue
            }
            if c == "&" {
                var j = i + 1
                while j < scalars.count, j - i < 12, scalars[j] != ";", scalars[j] != "&", scalars[j] != "<" { j += 1 }
                if j < scalars.count, scalars[j] == ";" {
                    let entity = String(String.UnicodeScalarView(scalars[(i + 1)..<j]))
                    if let decoded = decodeEntity(entity) {
                        if decoded == " " { pendingSpace = !atLineStart } else { emit(decoded) }
                        i = j + 1
                        continue
                    }
                }
            }
            emit(String(c))
            i += 1
        }
        // Collapse runs of blank lines.
        var lines: [Substring] = []
        for line in out.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    static func decodeEntity(_ e: String) -> String? {
        switch e {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos", "#39": return "'"
        case "nbsp": return " "
        case "ndash": return "\u{2013}"
        case "mdash": return "\u{2014}"
        case "hellip": return "\u{2026}"
        case "euro": return "\u{20AC}"
        case "copy": return "\u{00A9}"
        case "lsquo": return "\u{2018}"
        case "rsquo": return "\u{2019}"
        case "ldquo": return "\u{201C}"
        case "rdquo": return "\u{201D}"
        case "laquo": return "\u{00AB}"
        case "raquo": return "\u{00BB}"
        default: break
        }
        if e.hasPrefix("#x") || e.hasPrefix("#X"), let v = UInt32(e.dropFirst(2), radix: 16), let s = Unicode.Scalar(v), v >= 32 {
            return String(s)
        }
        if e.hasPrefix("#"), let v = UInt32(e.dropFirst()), let s = Unicode.Scalar(v), v >= 32 { return String(s) }
        return nil
    }
}
