import Crypto
import Mail
import Rules

/// What an email sink needs for reply addresses, built from its settings: the codec (HMAC keys
/// from `reply_secret`), the addresses, the Message-ID domain. Shared by the daemon's sink and
/// `mojo-bridge ingest-mail`.
public struct EmailReplySetup {
    /// The sink's name.
    public let sink: String
    /// Signs and verifies reply addresses; nil without `reply_to`.
    public let codec: ReplyAddressCodec?
    /// The sender mailbox (`from`).
    public let from: MailAddress
    /// The recipients (`to`), as configured.
    public let recipients: [MailAddress]
    /// The domain of the Message-IDs the sink writes.
    public let messageDomain: String
    /// The tenants a reply may be for.
    public let tenants: [String]

    /// Reads the secrets and checks the addresses; the error says what is wrong (never a secret).
    public init(settings: SinkSettings, email: EmailSinkSettings, tenants: [String]) throws(SinkSetupError) {
        sink = settings.name
        self.tenants = tenants
        guard let from = MailAddress.parse(email.from) ?? MailAddress.parse("<\(email.from)>"), MailAddress.isValid(from.address) else {
            throw SinkSetupError(sink: settings.name, reason: "`from` is not a valid address: \(email.from)")
        }
        self.from = from
        var recipients: [MailAddress] = []
        for r in email.to {
            guard let a = MailAddress.parse(r) ?? MailAddress.parse("<\(r)>"), MailAddress.isValid(a.address) else {
                throw SinkSetupError(sink: settings.name, reason: "`to` entry is not a valid address: \(r)")
            }
            recipients.append(a)
        }
        self.recipients = recipients
        if let replyTo = email.replyTo, let address = MailAddress.parse("<\(replyTo)>") {
            var macs: [ReplyAddressCodec.MAC] = []
            for ref in email.replySecrets {
                switch SecretResolver.value(of: ref) {
                case .failure(let e): throw SinkSetupError(sink: settings.name, reason: "reply_secret \(ref): \(e.description)")
                case .success(let text):
                    guard text.utf8.count >= 16 else {
                        throw SinkSetupError(sink: settings.name, reason: "reply_secret \(ref): shorter than 16 bytes")
                    }
                    let key = Array(text.utf8)
                    macs.append { message in (try? HMAC.sha256(key: key, data: message)) ?? [] }
                }
            }
            guard !macs.isEmpty else { throw SinkSetupError(sink: settings.name, reason: "`reply_to` needs `reply_secret`") }
            codec = ReplyAddressCodec(local: address.localPart, domain: address.domain, signers: macs)
            messageDomain = address.domain
        } else {
            codec = nil
            messageDomain = from.domain
        }
    }
}
