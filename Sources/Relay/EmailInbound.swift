import Mail

/// Judges one inbound reply: size, MIME, reply address and key, sender, automatic mail; and
/// turns what is left into the text to post. Pure (no I/O): the daemon's IMAP poller and
/// `ingest-mail` both use it, then dedupe and post.
public struct EmailInbound {
    public let setup: EmailReplySetup
    public let policy: InboundPolicy
    public let maxSize: Int
    /// Longer replies are cut to this many characters (with a note).
    public static let maxTextCharacters = 20_000

    public init(setup: EmailReplySetup, policy: InboundPolicy, maxSize: Int) {
        self.setup = setup
        self.policy = policy
        self.maxSize = maxSize
    }

    /// What to do with a mail.
    public enum Verdict: Sendable, Equatable {
        /// Post `text` to the conversation (then mark it read).
        case post(Reply)
        /// Accepted and dropped: an auto-reply, a bounce, nothing left after trimming.
        case ignored(reason: String, label: String)
        /// Not a readable message, or over `max_size` (sysexits 65).
        case malformed(String)
        /// Not one of this sink's reply addresses, or a key that does not verify (67).
        case unknownAddress(String)
        /// The sender is not the recipient the key was made for (77).
        case refusedSender(String)

        /// A short label for logs and metrics.
        public var label: String {
            switch self {
            case .post: "posted"
            case .ignored(_, let l): l
            case .malformed: "malformed"
            case .unknownAddress: "unknown_address"
            case .refusedSender: "refused_sender"
            }
        }
    }

    /// A reply to post.
    public struct Reply: Sendable, Equatable {
        public var tenant: String
        public var conversation: String
        public var text: String
        /// The MOJO message answered, when In-Reply-To names one of our mails.
        public var replyToId: String?
        /// The mail's Message-ID (for deduplication), if it has one.
        public var messageId: String?
        /// The sender's address.
        public var sender: String
    }

    /// Whether `address` is one of this sink's reply addresses (any key).
    public func claims(_ address: String) -> Bool { setup.codec?.claim(in: address) != nil }

    /// The verdict on `bytes` (a whole RFC 5322 message); `envelopeRecipient` is the address
    /// the MTA delivered to, when known (else Delivered-To, X-Original-To, To and Cc are searched).
    public func judge(_ bytes: [UInt8], envelopeRecipient: String? = nil) -> Verdict {
        guard let codec = setup.codec else { return .unknownAddress("sink \(setup.sink) has no reply_to") }
        guard bytes.count <= maxSize else { return .malformed("message of \(bytes.count) bytes is over max_size (\(maxSize))") }
        var parser = MIMEParser()
        let message: MIMEEntity
        do { message = try parser.parse(bytes) } catch { return .malformed("malformed MIME: \(error.reason)") }
        guard let from = message.header("From").flatMap(MailAddress.parse) else { return .malformed("no From address") }

        var candidates: [String] = envelopeRecipient.map { [$0] } ?? []
        for h in ["Delivered-To", "X-Original-To", "To", "Cc"] {
            for value in message.headers(h) {
                for piece in Self.splitAddressList(value) {
                    if let a = MailAddress.parse(piece) { candidates.append(a.address) }
                }
            }
        }
        guard let claim = candidates.lazy.compactMap({ codec.claim(in: $0) }).first else {
            return .unknownAddress("no reply address of sink \(setup.sink) among the recipients")
        }
        if let refusal = policy.refusal(message) {
            if case .unauthenticated(let why) = refusal { return .refusedSender(why) }
            return .ignored(reason: refusal.description, label: refusal.label)
        }
        // The key binds tenant, conversation and recipient: find who it was made for.
        var owner: (tenant: String, recipient: MailAddress)?
        for tenant in setup.tenants {
            for r in setup.recipients where codec.verify(claim, tenant: tenant, recipient: r.address) {
                owner = (tenant, r)
                break
            }
            if owner != nil { break }
        }
        guard let owner else { return .unknownAddress("reply key does not verify (forged, altered, or for another sink or recipient)") }
        guard from.normalized == owner.recipient.normalized else {
            return .refusedSender("From \(from.address) is not the recipient the reply address was made for")
        }
        let content = MailContent(message)
        var text = content.replyText
        if text.isEmpty { return .ignored(reason: "nothing left after removing quotes and signature", label: "empty") }
        if text.count > Self.maxTextCharacters { text = String(text.prefix(Self.maxTextCharacters)) + "\n[... cut]" }
        let replyTo = (message.header("In-Reply-To")).flatMap { MessageIDs.mojoMessage(in: $0, domain: setup.messageDomain) }
        let messageId = message.header("Message-ID")?.trimmed
        return .post(Reply(tenant: owner.tenant, conversation: claim.conversation, text: text, replyToId: replyTo,
                           messageId: messageId, sender: from.normalized))
    }

    /// An address list split at commas outside quotes and angle brackets.
    static func splitAddressList(_ value: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        var angle = false
        for c in value {
            if c == "\"" { quoted.toggle() }
            if !quoted && c == "<" { angle = true }
            if !quoted && c == ">" { angle = false }
            if c == "," && !quoted && !angle {
                out.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        out.append(current)
        return out
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" || c == "\n" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" || c == "\n" { s = s.dropLast() }
        return String(s)
    }
}
