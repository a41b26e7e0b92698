/// A mail to one recipient, rendered as RFC 5322 bytes with CRLF line endings.
///
/// Headers: Date, From, To, Reply-To, Subject, Message-ID, In-Reply-To, References, List-Id,
/// Auto-Submitted, MIME-Version, Content-Type. Bodies are UTF-8 quoted-printable; with `html`
/// the mail is `multipart/alternative` (text first). Every header value is sanitised (see
/// `HeaderEncoding`), so nothing in MOJO content can add a header or a MIME part.
public struct OutgoingMail: Sendable {
    public var from: MailAddress
    public var to: MailAddress
    public var replyTo: MailAddress?
    public var subject: String
    /// Seconds since the epoch for the Date header.
    public var date: Int64
    /// `<...>` as made by `MessageIDs`.
    public var messageId: String
    public var inReplyTo: String?
    public var references: [String]
    /// `List-Id: NAME <ID>`: ID must be a dot-atom (letters, digits, `-`, `.`).
    public var listId: (name: String, id: String)?
    public var text: String
    /// An HTML alternative, already escaped by its producer.
    public var html: String?

    /// A mail; the optional parts may be set afterwards.
    public init(from: MailAddress, to: MailAddress, subject: String, date: Int64, messageId: String, text: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.date = date
        self.messageId = messageId
        self.text = text
        references = []
    }

    /// The mail as bytes; fails when an address could break a header or an SMTP command.
    public func render() throws(MailBuildError) -> [UInt8] {
        for a in [from, to] + (replyTo.map { [$0] } ?? []) where !MailAddress.isValid(a.address) {
            throw MailBuildError(reason: "invalid address \(a.address.debugDescription)")
        }
        for id in [messageId] + (inReplyTo.map { [$0] } ?? []) + references where !Self.isMessageID(id) {
            throw MailBuildError(reason: "invalid message id \(id.debugDescription)")
        }
        var head: [(String, String)] = [
            ("Date", MailDate.format(unixSeconds: date)),
            ("From", from.description),
            ("To", to.description),
        ]
        if let replyTo { head.append(("Reply-To", replyTo.description)) }
        head.append(("Subject", HeaderEncoding.unstructured(subject)))
        head.append(("Message-ID", messageId))
        if let inReplyTo { head.append(("In-Reply-To", inReplyTo)) }
        if !references.isEmpty { head.append(("References", references.joined(separator: "\r\n "))) }
        if let listId {
            let id = String(listId.id.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".") })
            let name = HeaderEncoding.displayName(listId.name)
            head.append(("List-Id", name.isEmpty ? "<\(id)>" : "\(name) <\(id)>"))
        }
        head.append(("Auto-Submitted", "auto-generated"))
        head.append(("X-Auto-Response-Suppress", "All"))
        head.append(("MIME-Version", "1.0"))

        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 2 + (html?.utf8.count ?? 0) * 2 + 1024)
        func line(_ s: String) { out.append(contentsOf: s.utf8); out.append(contentsOf: [13, 10]) }
        for (name, value) in head { line(Self.folded(name, value)) }
        let textPart: [(String, String)] = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "quoted-printable")]
        if let html {
            // "=_" never occurs in quoted-printable output, so the boundary cannot occur in a part.
            let boundary = "=_mb_" + MessageIDs.recipientTag(messageId) + MessageIDs.recipientTag(to.address)
            line("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            line("")
            line("--" + boundary)
            for (n, v) in textPart { line("\(n): \(v)") }
            line("")
            out.append(contentsOf: QuotedPrintable.encode(text))
            line("--" + boundary)
            line("Content-Type: text/html; charset=utf-8")
            line("Content-Transfer-Encoding: quoted-printable")
            line("")
            out.append(contentsOf: QuotedPrintable.encode(html))
            line("--" + boundary + "--")
        } else {
            for (n, v) in textPart { line("\(n): \(v)") }
            line("")
            out.append(contentsOf: QuotedPrintable.encode(text))
        }
        return out
    }

    /// `Name: value`, folded before the address (`CRLF SPACE <...>`) when the line would pass 76
    /// characters; encoded-words and References are folded where they are made.
    static func folded(_ name: String, _ value: String) -> String {
        let lineLength = name.utf8.count + 2 + (value.split(separator: "\r\n").first?.utf8.count ?? 0)
        guard lineLength > 76, let angle = value.lastIndex(of: "<"), angle > value.startIndex,
              value[value.index(before: angle)] == " ", !value[..<angle].contains("\r\n") else { return "\(name): \(value)" }
        return "\(name): \(value[..<value.index(before: angle)])\r\n \(value[angle...])"
    }

    /// `<left@right>` with printable ASCII and no space, angle bracket or second `@`.
    static func isMessageID(_ id: String) -> Bool {
        guard id.hasPrefix("<"), id.hasSuffix(">"), id.count > 4 else { return false }
        let inner = id.dropFirst().dropLast()
        return inner.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
            && inner.filter { $0 == "@" }.count == 1
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` escaped, line breaks as `<br>`: an HTML body from plain text.
    public static func htmlEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n": out += "<br>\n"
            default: out.append(c)
            }
        }
        return out
    }
}

/// A mail that cannot be built safely.
public struct MailBuildError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
