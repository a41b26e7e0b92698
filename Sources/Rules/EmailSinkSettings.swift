/// `type = email`: SMTP out; replies in by IMAP polling when `imap` is set.
public struct EmailSinkSettings: Sendable, Equatable {
    /// `smtp`: `smtp://` or `smtps://` URL (required).
    public var smtp: String
    /// `from`: envelope and header sender (required).
    public var from: String
    /// `to`: recipients (required, one or a list).
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

    static let keys = ["smtp", "from", "to", "username", "password", "subject", "imap", "poll_interval"]
    static let defaultSubject = "{sender.name} in {conversation}"

    static func read(_ reader: inout BlockReader) -> EmailSinkSettings {
        EmailSinkSettings(smtp: reader.url("smtp", schemes: ["smtp", "smtps"], required: true) ?? "",
                          from: reader.string("from", required: true) ?? "",
                          to: reader.stringList("to", required: true) ?? [],
                          username: reader.string("username"),
                          password: reader.secret("password", allowCommand: false, required: false),
                          subject: reader.template("subject")
                              ?? (try? Template(parsing: defaultSubject, location: reader.block.location))
                              ?? Template(parts: []),
                          imap: reader.url("imap", schemes: ["imap", "imaps"], required: false),
                          pollInterval: reader.duration("poll_interval", default: .seconds(60)))
    }
}
