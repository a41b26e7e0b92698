/// One SMTP submission or IMAP command for `CurlMulti.perform(mail:)`.
///
/// SMTP: `url` is `smtp://host[:port]` or `smtps://host[:port]`; `mailFrom`, `recipients` and
/// `upload` (the RFC 5322 message, CRLF line endings; libcurl dot-stuffs it) are set.
/// IMAP: `url` names the server and mailbox (`imaps://host/INBOX`, `...;UID=7` to fetch one
/// message), `command` is an optional custom command (`UID SEARCH UID 5:*`, `UID STORE ...`);
/// untagged responses and fetched messages come back in `MailTransferResult.body`.
public struct MailTransferRequest: Sendable {
    /// `smtp://`, `smtps://`, `imap://` or `imaps://` URL.
    public var url: String
    /// Require TLS: STARTTLS on `smtp://`/`imap://` (CURLUSESSL_ALL), fail when the server does
    /// not offer it. `smtps`/`imaps` are TLS from the start anyway. Off only when a sink says so.
    public var requireTLS: Bool = true
    /// Login (AUTH for SMTP, LOGIN/AUTHENTICATE for IMAP); never logged.
    public var username: String?
    public var password: String?
    /// PEM bundle of trusted CAs; nil uses the system store.
    public var caFile: String?
    public var connectTimeoutMs: Int = 10_000
    public var timeoutMs: Int = 60_000
    /// SMTP envelope sender.
    public var mailFrom: String?
    /// SMTP envelope recipients.
    public var recipients: [String] = []
    /// SMTP: the message to send.
    public var upload: [UInt8] = []
    /// IMAP: a custom command run after selecting the URL's mailbox.
    public var command: String?
    /// IMAP: larger responses fail the transfer (a message over the inbound limit).
    public var maxResponseBytes: Int = 16 << 20

    /// A request for `url`.
    public init(url: String) {
        self.url = url
    }

    /// Why the request cannot be sent as is (CR/LF or NUL in an argument), if it cannot.
    var validationFailure: String? {
        let lower = url.lowercased()
        guard ["smtp://", "smtps://", "imap://", "imaps://"].contains(where: { lower.hasPrefix($0) }) else {
            return "not an smtp, smtps, imap or imaps URL: \(url)"
        }
        for value in [url, mailFrom ?? "", username ?? "", password ?? "", command ?? ""] + recipients
        where value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            return "CR, LF or NUL in a mail transfer argument"
        }
        return nil
    }

    var isSMTP: Bool { url.lowercased().hasPrefix("smtp") }
}

/// How a mail transfer ended: libcurl's result, the server's last reply code and its response
/// lines (SMTP replies, IMAP tagged/untagged status lines) and, for IMAP, the data received.
public struct MailTransferResult: Sendable {
    /// 0 when libcurl finished the transfer.
    public var curlCode: Int32
    /// libcurl's message for a failure (empty on success).
    public var error: String
    /// The server's last numeric reply (SMTP: 250, 451, 550, ...; IMAP: 0 or libcurl's mapping).
    public var replyCode: Int
    /// The server's response lines as received (at most the last 100), without CRLF.
    public var lines: [String]
    /// What the write callback received (IMAP untagged responses, a fetched message).
    public var body: [UInt8]

    /// Whether libcurl reports success.
    public var succeeded: Bool { curlCode == 0 }

    /// The last server lines starting with the reply code (the reason a server gave), joined.
    public var serverReply: String {
        let tail = lines.suffix(4).filter { !$0.isEmpty }
        return tail.joined(separator: " | ")
    }
}
