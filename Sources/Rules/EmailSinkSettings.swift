/// `type = email`: SMTP out; replies in by IMAP polling when `imap` is set (or piped to
/// `mojo-bridge ingest-mail` by an MTA), accepted only at `reply_to` addresses with a valid key.
public struct EmailSinkSettings: Sendable, Equatable {
    /// `smtp`: `smtp://` or `smtps://` URL (required).
    public var smtp: String
    /// `from`: envelope and header sender (required), `addr` or `Name <addr>`.
    public var from: String
    /// `to`: recipients (required, one or a list); each gets its own mail and reply address.
    public var to: [String]
    /// `username`: SMTP/IMAP login.
    public var username: String?
    /// `password`: by reference.
    public var password: SecretRef?
    /// `subject`: a template rendered with header escaping; default `"{sender.name} in {conversation}"`.
    public var subject: Template
    /// `imap`: `imap://` or `imaps://` mailbox URL polled for replies.
    public var imap: String?
    /// `poll_interval`: IMAP polling period; default 60s.
    public var pollInterval: Duration
    /// `starttls`: require STARTTLS on `smtp://` and `imap://` (default true; false sends in clear).
    public var starttls: Bool
    /// `ca_file`: trust this PEM CA bundle for SMTP and IMAP TLS.
    public var caFile: String?
    /// `connect_timeout` (default 10s) and `timeout` (one mail or IMAP command, default 60s).
    public var connectTimeout: Duration
    public var timeout: Duration
    /// `html`: add a text/html alternative (the text, escaped); default false.
    public var html: Bool
    /// `reply_to`: `local@domain`; mails carry `Reply-To: local+KEY@domain` and replies are
    /// accepted there. Without it mails have no reply address and no reply is accepted.
    public var replyTo: String?
    /// `reply_secret`: the key-signing secrets by reference (the first signs, all verify);
    /// required with `reply_to`.
    public var replySecrets: [SecretRef]
    /// `processed_folder`: IMAP folder handled mails move to (default: flagged \Seen, left in place).
    public var processedFolder: String?
    /// `authserv_id`: require `Authentication-Results` from this server with `dmarc=pass`.
    public var authservId: String?
    /// `max_size`: larger inbound mails are refused (default 10MiB).
    public var maxSize: Int
    /// `digest`: collect a conversation's messages for this long into one mail per recipient
    /// (at most `digestLimit` messages a mail); zero (the default) mails each message at once.
    public var digest: Duration = .zero
    /// `digest_max`: the most messages one digest mail holds (default 100, 2...1000); a fuller
    /// digest is sent at once.
    public var digestLimit: Int = 100

    static let keys = ["smtp", "from", "to", "username", "password", "subject", "imap", "poll_interval",
                       "starttls", "ca_file", "connect_timeout", "timeout", "html", "reply_to", "reply_secret",
                       "processed_folder", "authserv_id", "max_size", "digest", "digest_max"]
    static let defaultSubject = "{sender.name} in {conversation}"

    static func read(_ reader: inout BlockReader) -> EmailSinkSettings {
        let replyTo = reader.string("reply_to")
        let secrets = reader.secrets("reply_secret")
        if let replyTo {
            let parts = replyTo.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty || parts[0].contains("+")
                || !replyTo.utf8.allSatisfy({ $0 > 32 && $0 < 127 && !"<>\"(),;:\\[]".utf8.contains($0) }) {
                let location = reader.entry("reply_to")?.value.location ?? reader.block.location
                reader.fail(location, "`reply_to` must be a plain address local@domain without `+`", hint: "e.g. reply_to = \"reply@bridge.example.com\"")
            }
            if secrets.isEmpty, reader.entry("reply_secret") == nil {
                let location = reader.block.location
                reader.fail(location, "`reply_to` needs `reply_secret`", hint: "add `reply_secret = file:/run/secrets/mail-reply-key`")
            }
        }
        var settings = EmailSinkSettings(smtp: reader.url("smtp", schemes: ["smtp", "smtps"], required: true) ?? "",
                                 from: reader.string("from", required: true) ?? "",
                                 to: reader.stringList("to", required: true) ?? [],
                                 username: reader.string("username"),
                                 password: reader.secret("password", allowCommand: false, required: false),
                                 subject: reader.template("subject")
                                     ?? (try? Template(parsing: defaultSubject, location: reader.block.location))
                                     ?? Template(parts: []),
                                 imap: reader.url("imap", schemes: ["imap", "imaps"], required: false),
                                 pollInterval: reader.duration("poll_interval", default: .seconds(60)),
                                 starttls: reader.bool("starttls", default: true),
                                 caFile: reader.path("ca_file", mustBeReadable: true),
                                 connectTimeout: reader.duration("connect_timeout", default: .seconds(10)),
                                 timeout: reader.duration("timeout", default: .seconds(60)),
                                 html: reader.bool("html", default: false),
                                 replyTo: replyTo,
                                 replySecrets: secrets,
                                 processedFolder: reader.string("processed_folder"),
                                 authservId: reader.string("authserv_id"),
                                 maxSize: reader.size("max_size", default: 10 << 20))
        settings.digest = reader.duration("digest", default: .zero)
        settings.digestLimit = reader.integer("digest_max", default: 100, range: 2...1000)
        return settings
    }
}

extension EmailSinkSettings: ConfigurableSinkKind {
    public static let typeName = "email"
    public var templateEscaping: TemplateEscaping { .body }
    /// The sink renders subject, body and threading headers itself, from the envelope.
    public var receivesEnvelope: Bool { true }
    public var secretReferences: [SecretRef] { (password.map { [$0] } ?? []) + replySecrets }
    public var hasDeliveryAttributes: Bool { true }
    /// `subject`: the rendered Subject header, spooled with the event.
    public func attributes(for event: RoutableEvent) -> [(String, String)] {
        [("subject", subject.render(event, escaping: .header))]
    }
}

extension SinkSettings.Kind {
    /// `type = email`.
    public static func email(_ settings: EmailSinkSettings) -> Self { Self(settings) }
}
