/// The per-recipient reply address `local+CONV.KEY@domain`.
///
/// CONV names the conversation (`u` + base32 of a UUID's 16 bytes, or `s` + base32 of the id's
/// UTF-8), KEY is the first 80 bits of an HMAC-SHA256 over
/// `"mojo-bridge reply v1" NUL tenant NUL conversation NUL recipient` (recipient normalised),
/// base32: 16 characters. The tenant is not in the address; the verifier tries each tenant it
/// serves. The MAC comes from outside (this module does no cryptography): `signers` are the
/// configured secrets, the first signs, all verify (key rotation).
public struct ReplyAddressCodec {
    /// One secret's MAC: HMAC-SHA256(secret, message) (at least 10 bytes are used).
    public typealias MAC = ([UInt8]) -> [UInt8]

    /// The local part before `+`.
    public let local: String
    /// The reply domain (lower case).
    public let domain: String
    private let signers: [MAC]
    /// MAC bytes kept in the address: 10 bytes, 80 bits.
    public static let tagBytes = 10

    /// A codec for `local@domain` addresses; `signers` must not be empty.
    public init(local: String, domain: String, signers: [MAC]) {
        self.local = local.lowercased()
        self.domain = domain.lowercased()
        self.signers = signers
    }

    /// The reply address for one recipient of one conversation of one tenant.
    public func address(tenant: String, conversation: String, recipient: String) -> String {
        let tag = Array(signers[0](Self.message(tenant: tenant, conversation: conversation, recipient: recipient)).prefix(Self.tagBytes))
        return "\(local)+\(Self.conversationToken(conversation)).\(Base32.encode(tag))@\(domain)"
    }

    /// What an address claims, before verification.
    public struct Claim: Sendable, Equatable {
        public var conversation: String
        public var tag: [UInt8]
    }

    /// The claim in `address` (`local+CONV.KEY@domain`, any case), or nil when it is not one of
    /// ours (other local part or domain, bad encoding, wrong tag length).
    public func claim(in address: String) -> Claim? {
        let a = MailAddress.normalize(address)
        guard let at = a.lastIndex(of: "@"), String(a[a.index(after: at)...]) == domain else { return nil }
        let localPart = a[..<at]
        guard localPart.hasPrefix(local + "+") else { return nil }
        let detail = localPart.dropFirst(local.count + 1)
        guard let dot = detail.lastIndex(of: ".") else { return nil }
        guard let conversation = Self.conversation(from: detail[..<dot]),
              let tag = Base32.decode(detail[detail.index(after: dot)...]), tag.count == Self.tagBytes else { return nil }
        return Claim(conversation: conversation, tag: tag)
    }

    /// Whether `claim` was made for (tenant, recipient) with any of the secrets (constant time per secret).
    public func verify(_ claim: Claim, tenant: String, recipient: String) -> Bool {
        let message = Self.message(tenant: tenant, conversation: claim.conversation, recipient: recipient)
        var ok = false
        for signer in signers {
            let expected = Array(signer(message).prefix(Self.tagBytes))
            if Self.constantTimeEquals(expected, claim.tag) { ok = true }
        }
        return ok
    }

    static func message(tenant: String, conversation: String, recipient: String) -> [UInt8] {
        Array("mojo-bridge reply v1".utf8) + [0] + Array(tenant.utf8) + [0] + Array(conversation.utf8) + [0]
            + Array(MailAddress.normalize(recipient).utf8)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    static func conversationToken(_ id: String) -> String {
        if let bytes = uuidBytes(id) { return "u" + Base32.encode(bytes) }
        return "s" + Base32.encode(Array(id.utf8))
    }

    static func conversation(from token: Substring) -> String? {
        guard let kind = token.first, let bytes = Base32.decode(token.dropFirst()) else { return nil }
        switch kind {
        case "u":
            guard bytes.count == 16 else { return nil }
            let hex = Array("0123456789abcdef")
            var s = ""
            for (i, b) in bytes.enumerated() {
                if [4, 6, 8, 10].contains(i) { s.append("-") }
                s.append(hex[Int(b >> 4)])
                s.append(hex[Int(b & 15)])
            }
            return s
        case "s":
            guard !bytes.isEmpty, let s = String(validating: bytes, as: UTF8.self) else { return nil }
            return s
        default:
            return nil
        }
    }

    /// The 16 bytes of a lower-case canonical UUID (8-4-4-4-12 hex), else nil (so that the
    /// conversation id read back is the same string).
    static func uuidBytes(_ id: String) -> [UInt8]? {
        let chars = Array(id.utf8)
        guard chars.count == 36 else { return nil }
        var bytes: [UInt8] = []
        var i = 0
        while i < 36 {
            if [8, 13, 18, 23].contains(i) {
                guard chars[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let h = lowerHex(chars[i]), i + 1 < 36, let l = lowerHex(chars[i + 1]) else { return nil }
            bytes.append(h << 4 | l)
            i += 2
        }
        return bytes
    }

    private static func lowerHex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        default: return nil
        }
    }
}
