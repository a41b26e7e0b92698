/// The Message-IDs the bridge writes, and reading them back from `In-Reply-To`.
///
/// - a MOJO message's mail to one recipient: `<m.MSG.R@domain>`, the same on every redelivery;
/// - the thread root of a conversation for one recipient: `<c.CONV.R@domain>` (never sent
///   itself; every mail of the conversation names it in `References`, so clients thread them);
/// - a digest of N MOJO messages to one recipient: `<d.N.HASH.R@domain>`, HASH a 64-bit
///   FNV-1a of the message ids in order (the same digest again is the same mail).
///
/// MSG and CONV are the MOJO ids when they contain only letters, digits, `-` and `_`, otherwise
/// `x` plus their base32; R is a short hash of the normalised recipient address.
public enum MessageIDs {
    /// The Message-ID of MOJO message `messageId`'s mail to `recipient`.
    public static func message(_ messageId: String, recipient: String, domain: String) -> String {
        "<m.\(token(messageId)).\(recipientTag(recipient))@\(domain)>"
    }

    /// The thread root of `conversation` for `recipient`.
    public static func thread(_ conversation: String, recipient: String, domain: String) -> String {
        "<c.\(token(conversation)).\(recipientTag(recipient))@\(domain)>"
    }

    /// The Message-ID of a digest of MOJO messages `messageIds` (in order) to `recipient`.
    public static func digest(_ messageIds: [String], recipient: String, domain: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for id in messageIds {
            for b in id.utf8 {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
            h ^= 0x0A
            h = h &* 0x100_0000_01b3
        }
        let hash = Base32.encode((0..<8).map { UInt8(truncatingIfNeeded: h >> (8 * UInt64($0))) })
        return "<d.\(messageIds.count).\(hash).\(recipientTag(recipient))@\(domain)>"
    }

    /// The MOJO message id named by one of our Message-IDs (`<m.MSG.R@domain>`), if `value` is one.
    public static func mojoMessage(in value: String, domain: String) -> String? {
        for candidate in value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
            let id = candidate.trimmingCharacters(in: "<>")
            guard id.lowercased().hasSuffix("@" + domain.lowercased()), id.hasPrefix("m.") else { continue }
            let local = id.dropFirst(2).prefix(while: { $0 != "@" })
            guard let dot = local.lastIndex(of: ".") else { continue }
            if let decoded = untoken(String(local[..<dot])) { return decoded }
        }
        return nil
    }

    static func token(_ id: String) -> String {
        let safe = !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
        return safe ? id : "x" + Base32.encode(Array(id.utf8.prefix(96)))
    }

    static func untoken(_ token: String) -> String? {
        if token.hasPrefix("x") {
            guard let bytes = Base32.decode(token.dropFirst()) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        return token.isEmpty ? nil : token
    }

    /// 40 bits of FNV-1a of the normalised address, base32: distinguishes recipients, reveals nothing useful.
    static func recipientTag(_ recipient: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in MailAddress.normalize(recipient).utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return Base32.encode((0..<5).map { UInt8(truncatingIfNeeded: h >> (8 * UInt64($0))) })
    }
}
