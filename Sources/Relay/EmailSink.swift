import Curl
import Diagnostics
import JSON
import Mail
import Mojo
import Rules
import Transport

/// `type = email`: each `message:new` mailed by SMTP (libcurl) to every recipient, one mail per
/// recipient with its own `Reply-To` key; replies come back through the IMAP poller (`imap`)
/// or `mojo-bridge ingest-mail` and are posted as the bridge user.
///
/// The sink gets the JSON envelope (see `SinkSettings.receivesEnvelope`) and renders subject,
/// body and threading headers at delivery time, so a spooled mail is rebuilt identically after
/// a restart (same Message-ID). One mail is in flight at a time; libcurl keeps the SMTP
/// connection open between mails. Outcomes: 2xx delivered; 4xx replies and network errors
/// retried on the sink's schedule; 5xx replies dead-lettered with the server's reply.
public final class EmailSink: Sink {
    public let name: String
    private let settings: EmailSinkSettings
    private let setup: EmailReplySetup
    private let curl: CurlMulti
    private let log: Logger
    private weak var host: SinkHost?
    private let password: String?
    private let templates: [String: Template]
    private var inFlight: RequestID?
    private var stopped = false
    /// (event id, recipient) already accepted by the server in this run: a retry after a
    /// partial failure does not mail those recipients again (bounded; oldest forgotten).
    private var accepted: Set<String> = []
    private var acceptedOrder: [String] = []
    private var poller: EmailIMAPPoller?
    private let inbound: EmailInbound
    private let seen: EmailSeenSet

    /// Creates the sink; `templates` maps route names to their templates (the body of a mail).
    public init(settings: SinkSettings, email: EmailSinkSettings, tenants: [String], templates: [String: Template],
                spoolDirectory: String?, curl: CurlMulti, loop: EventLoop, logger: Logger, host: SinkHost) throws(SinkSetupError) {
        name = settings.name
        self.settings = email
        self.curl = curl
        self.log = logger.with("sink", settings.name)
        self.host = host
        self.templates = templates
        setup = try EmailReplySetup(settings: settings, email: email, tenants: tenants)
        if let ref = email.password {
            switch SecretResolver.value(of: ref) {
            case .failure(let e): throw SinkSetupError(sink: settings.name, reason: "password \(ref): \(e.description)")
            case .success(let p): password = p
            }
        } else {
            password = nil
        }
        inbound = EmailInbound(setup: setup, policy: InboundPolicy(authservId: email.authservId), maxSize: email.maxSize)
        let files = spoolDirectory.map { EmailStateFiles(spoolDirectory: $0, sink: settings.name) }
        seen = EmailSeenSet(files: files)
        if let imap = email.imap {
            guard setup.codec != nil else { throw SinkSetupError(sink: settings.name, reason: "`imap` needs `reply_to` and `reply_secret`") }
            if let folder = email.processedFolder, !EmailIMAPPoller.isValidFolder(folder) {
                throw SinkSetupError(sink: settings.name, reason: "`processed_folder` holds a quote, backslash or control character")
            }
            var base = MailTransferRequest(url: imap)
            base.requireTLS = email.starttls
            base.username = email.username
            base.password = password
            base.caFile = email.caFile
            base.connectTimeoutMs = WebhookSink.ms(email.connectTimeout)
            base.timeoutMs = WebhookSink.ms(email.timeout)
            base.maxResponseBytes = email.maxSize
            poller = EmailIMAPPoller(base: base, intervalMs: WebhookSink.ms(email.pollInterval), processedFolder: email.processedFolder,
                                     files: files, loop: loop, curl: curl, log: log) { [weak self] bytes in self?.received(bytes) }
            poller?.onRefused = { [weak self] reason in self?.handle(.malformed(reason)) }
            poller?.start()
        }
    }

    public var capacity: Int { 1 }
    public var pipelinesConversations: Bool { false }

    // MARK: out

    public func deliver(_ delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void) {
        guard !stopped else { return }
        let mails: [(recipient: String, bytes: [UInt8])]
        switch render(delivery) {
        case .failure(let e): return done(.failed(reason: e.reason))
        case .success(nil): return done(.delivered)
        case .success(let m?): mails = m
        }
        send(mails[...], delivery: delivery, done)
    }

    private func send(_ mails: ArraySlice<(recipient: String, bytes: [UInt8])>, delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void) {
        guard let (recipient, bytes) = mails.first else { return done(.delivered) }
        let key = delivery.eventId + "\u{0}" + recipient
        if accepted.contains(key) { return send(mails.dropFirst(), delivery: delivery, done) }
        var request = MailTransferRequest(url: settings.smtp)
        request.requireTLS = settings.starttls
        request.username = settings.username
        request.password = password
        request.caFile = settings.caFile
        request.connectTimeoutMs = WebhookSink.ms(settings.connectTimeout)
        request.timeoutMs = WebhookSink.ms(settings.timeout)
        request.mailFrom = setup.from.address
        request.recipients = [recipient]
        request.upload = bytes
        inFlight = curl.perform(mail: request) { [weak self] result in
            guard let self else { return }
            self.inFlight = nil
            guard !self.stopped else { return }
            (self.host as? Bridge)?.count("mojo_bridge_email_smtp_total", "SMTP submissions by result (the reply code, or curl_N)",
                                          [("sink", self.name), ("result", result.succeeded ? "ok" : result.replyCode >= 400 ? String(result.replyCode) : "curl_\(result.curlCode)")])
            if result.succeeded {
                self.remember(key)
                self.log.debug("mail accepted", [("id", delivery.eventId), ("to", recipient), ("reply", result.serverReply)])
                return self.send(mails.dropFirst(), delivery: delivery, done)
            }
            done(Self.outcome(result, starttls: self.settings.starttls))
        }
    }

    private func remember(_ key: String) {
        guard accepted.insert(key).inserted else { return }
        acceptedOrder.append(key)
        if acceptedOrder.count > 10_000 { accepted.remove(acceptedOrder.removeFirst()) }
    }

    /// 4xx and network failures retry; 5xx and refusals that cannot heal by waiting dead-letter.
    static func outcome(_ r: MailTransferResult, starttls: Bool) -> DeliveryOutcome {
        let said = r.serverReply.isEmpty ? "" : "; server said: \(r.serverReply)"
        switch r.replyCode {
        case 500..<600:
            return .failed(reason: "SMTP \(r.replyCode): \(r.error)\(said)")
        case 400..<500:
            return .retry(reason: "SMTP \(r.replyCode): \(r.error)\(said)", afterMs: nil)
        default:
            // CURLE_USE_SSL_FAILED: the server offers no STARTTLS; waiting will not change that.
            if r.curlCode == 64 {
                return .failed(reason: "\(r.error): the server does not offer STARTTLS\(starttls ? " (set starttls = false only for a trusted local relay)" : "")")
            }
            if r.curlCode == 67 { return .failed(reason: "login refused: \(r.error)\(said)") }
            return .retry(reason: "\(r.error) (curl \(r.curlCode))\(said)", afterMs: nil)
        }
    }

    /// The mails for a delivery, one per recipient; nil when the event is not a message (nothing
    /// to mail); a failure when it cannot be built (dead-lettered with the reason).
    func render(_ delivery: Delivery) -> Result<[(recipient: String, bytes: [UInt8])]?, MailBuildError> {
        guard let json = try? JSONValue(parsing: delivery.payload) else { return .failure(MailBuildError(reason: "the spooled event is not JSON")) }
        let event: RoutableEvent
        switch RoutableEvent.decode(envelope: json) {
        case .failure(let e): return .failure(MailBuildError(reason: e.description))
        case .success(let e): event = e
        }
        guard event.type == "message:new", let conversation = event.conversationId else { return .success(nil) }
        let message = event.data["message"]
        let messageId = message?["id"]?.stringValue ?? delivery.eventId
        let replyToId = message?["replyToId"]?.stringValue
        // Rendered when the event was routed and spooled with it (`EmailSinkSettings.attributes`).
        let subject = delivery.attributes.first { $0.0 == "subject" }?.1 ?? settings.subject.render(event, escaping: .header)
        let text = (templates[delivery.route] ?? Template.defaultBody).render(event, escaping: .body)
        let displayName = setup.from.name.isEmpty ? "\(event.senderName ?? "MOJO") via MOJO" : setup.from.name
        let domain = setup.messageDomain
        let now = Timestamp.nowUnixMilliseconds() / 1000
        var mails: [(recipient: String, bytes: [UInt8])] = []
        for r in setup.recipients {
            var mail = OutgoingMail(from: MailAddress(name: displayName, address: setup.from.address), to: r, subject: subject,
                                    date: now, messageId: MessageIDs.message(messageId, recipient: r.address, domain: domain), text: text)
            if let codec = setup.codec {
                mail.replyTo = MailAddress(name: displayName,
                                           address: codec.address(tenant: event.tenant, conversation: conversation, recipient: r.address))
            }
            let root = MessageIDs.thread(conversation, recipient: r.address, domain: domain)
            mail.references = [root]
            mail.inReplyTo = root
            if let replyToId {
                let answered = MessageIDs.message(replyToId, recipient: r.address, domain: domain)
                mail.references.append(answered)
                mail.inReplyTo = answered
            }
            let listToken = String(conversation.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }.prefix(64))
            mail.listId = ("MOJO conversation", (listToken.isEmpty ? "conversation" : listToken) + "." + domain)
            if settings.html { mail.html = OutgoingMail.htmlEscaped(text) }
            do { mails.append((r.address, try mail.render())) } catch {
                return .failure(MailBuildError(reason: "cannot build the mail: \(error.reason)"))
            }
        }
        return .success(mails)
    }

    // MARK: in

    /// A mail fetched by the IMAP poller: judged, deduplicated, posted.
    private func received(_ bytes: [UInt8]) {
        let verdict = inbound.judge(bytes)
        handle(verdict)
    }

    /// Applies a verdict: posts the reply (message:send, then messages:read) or logs why not;
    /// counted in `mojo_bridge_email_replies_total{sink,outcome}`.
    func handle(_ verdict: EmailInbound.Verdict) {
        var outcome = verdict.label
        defer {
            (host as? Bridge)?.count("mojo_bridge_email_replies_total", "Reply mails by outcome (posted, or why not)",
                                     [("sink", name), ("outcome", outcome)])
        }
        switch verdict {
        case .post(let reply):
            if let id = reply.messageId, seen.contains(id) {
                log.info("reply mail already posted; ignored", [("message_id", id)])
                outcome = "duplicate"
                return
            }
            let context = ReplyContext(tenant: reply.tenant, conversationId: reply.conversation, hops: 0)
            host?.sink(name, sent: Envelope.Inbound(id: nil, tenant: reply.tenant,
                                                    command: .send(conversationId: reply.conversation, content: reply.text, replyToId: reply.replyToId)),
                       context: context)
            host?.sink(name, sent: Envelope.Inbound(id: nil, tenant: reply.tenant, command: .read(conversationId: reply.conversation)), context: context)
            if let id = reply.messageId { seen.insert(id) }
            log.info("reply by mail posted", [("tenant", reply.tenant), ("conversation", reply.conversation), ("from", reply.sender)])
        case .ignored(let reason, _):
            log.info("reply mail ignored", [("reason", reason)])
        case .malformed(let reason), .unknownAddress(let reason), .refusedSender(let reason):
            log.warn("reply mail refused", [("refusal", verdict.label), ("reason", reason)])
        }
    }

    public func stop(graceMs: Int, _ done: @escaping () -> Void) {
        stopped = true
        poller?.stop()
        poller = nil
        // A mail in flight is abandoned; its event stays spooled and is sent again after a restart.
        if let id = inFlight { curl.cancel(id) }
        inFlight = nil
        done()
    }
}
