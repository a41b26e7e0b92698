/// One mailbox: an optional display name and an addr-spec (`local@domain`).
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    /// The display name (may be empty).
    public var name: String
    /// The addr-spec, as given.
    public var address: String

    /// A mailbox; `address` must pass `MailAddress.isValid` to be written in a header.
    public init(name: String = "", address: String) {
        self.name = name
        self.address = address
    }

    /// The address lower-cased, for comparisons (the domain is case-insensitive; local parts
    /// are in practice: every mainstream provider treats them so).
    public var normalized: String { Self.normalize(address) }

    /// `address` without surrounding space and angle brackets, lower-cased.
    public static func normalize(_ address: String) -> String {
        address.trimmingCharacters(in: " \t<>").lowercased()
    }

    /// Whether `address` is a plain ASCII addr-spec with nothing a header or an SMTP command
    /// could be tricked by: one `@`, non-empty local part and domain, no space, control,
    /// quote, angle bracket, comma, semicolon or backslash.
    public static func isValid(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1 else { return false }
        let forbidden = Array(" \t\"<>(),;:\\[]@".utf8)
        for (i, b) in bytes.enumerated() {
            if b <= 0x20 || b >= 0x7F { return false }
            if i != at && forbidden.contains(b) { return false }
        }
        return !bytes[(at + 1)...].contains(UInt8(ascii: "@"))
    }

    /// The local part (before the last `@`).
    public var localPart: String {
        guard let at = address.lastIndex(of: "@") else { return address }
        return String(address[..<at])
    }

    /// The domain (after the last `@`), lower-cased.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...]).lowercased()
    }

    /// The mailbox as a header value: `Name <address>` with the name encoded as needed.
    public var description: String {
        let phrase = HeaderEncoding.displayName(name)
        return phrase.isEmpty ? "<\(address)>" : "\(phrase) <\(address)>"
    }

    /// The first mailbox of an (unfolded, decoded or not) address header value: `Name <a@b>`,
    /// `a@b (comment)`, `"Last, First" <a@b>`; nil when it holds no address.
    public static func parse(_ value: String) -> MailAddress? {
        let text = HeaderEncoding.sanitized(value)
        // The angle-bracket form: the address is inside the last <...> outside quotes.
        var inQuotes = false
        var escaped = false
        var open: String.Index?
        var found: (String.Index, String.Index)?
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inQuotes.toggle() } else if !inQuotes {
                if c == "<" { open = index } else if c == ">", let o = open {
                    found = (o, index)
                    break
                }
            }
            index = text.index(after: index)
        }
        if let (o, close) = found {
            let address = String(text[text.index(after: o)..<close]).trimmed
            var name = String(text[..<o]).trimmed
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                name = String(name.dropFirst().dropLast()).replacingEscapes()
            }
            guard address.contains("@") else { return nil }
            return MailAddress(name: HeaderEncoding.decode(name), address: address)
        }
        // A bare addr-spec, perhaps with a (comment).
        var bare = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 } else if c == ")" { depth = max(0, depth - 1) } else if depth == 0 { bare.append(c) }
        }
        let candidate = bare.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).first { $0.contains("@") }
        return candidate.map { MailAddress(address: String($0)) }
    }
}

extension String {
    /// A quoted string's content with its backslash escapes removed.
    func replacingEscapes() -> String {
        var out = ""
        var escaped = false
        for c in self {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
