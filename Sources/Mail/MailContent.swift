/// What a reply says, as text: the readable body of a parsed message and the names of the
/// attachments it carried (MOJO messages are text; attachments are named, not dropped silently).
public struct MailContent: Sendable, Equatable {
    /// The body text (text/plain preferred, else HTML reduced to text), LF line breaks.
    public var text: String
    /// The file names (or types) of the attachments.
    public var attachments: [String]
    /// Whether the text came from HTML (no text/plain part).
    public var fromHTML: Bool

    /// The readable content of `message`.
    public init(_ message: MIMEEntity) {
        var walker = Walker()
        walker.visit(message, insideRelated: false)
        text = walker.texts.joined(separator: "\n")
        attachments = walker.attachments
        fromHTML = walker.usedHTML && !walker.usedPlain
    }

    private struct Walker {
        var texts: [String] = []
        var attachments: [String] = []
        var usedHTML = false
        var usedPlain = false

        mutating func visit(_ e: MIMEEntity, insideRelated: Bool) {
            let type = e.contentType
            if type == "multipart/alternative" {
                // The richest part comes last; the first text/plain one is what we want.
                if let plain = e.parts.first(where: { $0.contentType == "text/plain" && !Self.isAttachment($0) }) {
                    return visit(plain, insideRelated: insideRelated)
                }
                if let nested = e.parts.last(where: { $0.contentType.hasPrefix("multipart/") }) {
                    return visit(nested, insideRelated: insideRelated)
                }
                if let html = e.parts.first(where: { $0.contentType == "text/html" }) { return visit(html, insideRelated: insideRelated) }
                return
            }
            if type.hasPrefix("multipart/") {
                let related = type == "multipart/related"
                for part in e.parts { visit(part, insideRelated: related) }
                return
            }
            if Self.isAttachment(e) {
                // Images embedded in an HTML body (a signature logo) are not attachments.
                if insideRelated && e.header("Content-ID") != nil && e.disposition?.value != "attachment" { return }
                attachments.append(e.fileName ?? (type == "message/rfc822" ? "forwarded message" : type))
                return
            }
            let charset = Charset(name: e.contentTypeParameters["charset"] ?? "utf-8")
            if type == "text/html" {
                texts.append(HTMLText.plainText(charset.decode(e.body)))
                usedHTML = true
            } else {
                var text = charset.decode(e.body)
                if e.contentTypeParameters["format"]?.lowercased() == "flowed" { text = Self.unflow(text, delsp: e.contentTypeParameters["delsp"]?.lowercased() == "yes") }
                texts.append(text.replacingCRLF())
                usedPlain = true
            }
        }

        static func isAttachment(_ e: MIMEEntity) -> Bool {
            let type = e.contentType
            if e.disposition?.value == "attachment" { return true }
            if type == "text/plain" || type == "text/html" { return false }
            return true
        }

        /// RFC 3676: a line ending in a space continues on the next (unless it is a signature separator).
        static func unflow(_ text: String, delsp: Bool) -> String {
            var out: [String] = []
            var current: String?
            for raw in text.replacingCRLF().split(separator: "\n", omittingEmptySubsequences: false) {
                var line = String(raw)
                let quoteDepth = line.prefix(while: { $0 == ">" }).count
                if let c = current {
                    let previousDepth = c.prefix(while: { $0 == ">" }).count
                    if previousDepth == quoteDepth {
                        line = c + String(line.dropFirst(quoteDepth).drop(while: { $0 == " " && quoteDepth > 0 }))
                    } else {
                        out.append(c)
                    }
                    current = nil
                }
                if line.hasSuffix(" ") && line != "-- " {
                    current = delsp ? String(line.dropLast()) : line
                } else {
                    out.append(line)
                }
            }
            if let c = current { out.append(c) }
            return out.joined(separator: "\n")
        }
    }
}

extension String {
    /// CRLF and lone CR as LF.
    func replacingCRLF() -> String {
        guard contains("\r") || contains("\r\n") else { return self }
        var out = ""
        out.reserveCapacity(utf8.count)
        for c in self {
            if c == "\r\n" || c == "\r" { out.append("\n") } else { out.append(c) }
        }
        return out
    }
}

extension MailContent {
    /// What is posted for a reply: the answer with the quoted mail and signature trimmed, then one
    /// `[attachment: NAME]` line per attachment; empty when nothing is left.
    public var replyText: String {
        var text = ReplyTrimmer.trim(self.text)
        let names = attachments.map { "[attachment: \(HeaderEncoding.sanitized($0).trimmed)]" }
        if !names.isEmpty { text += (text.isEmpty ? "" : "\n\n") + names.joined(separator: "\n") }
        return text
    }
}
