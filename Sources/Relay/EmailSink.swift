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
/// a restart (same Message-ID), with the route's template in force at that time. One mail is in
/// flight at a time; libcurl keeps the SMTP connection open between mails. Outcomes: 2xx
/// delivered; 4xx replies and network errors retried on the sink's schedule; 5xx replies
/// dead-lettered with the server's reply.
///
/// Digest mode (`digest = 60s`): the sink holds a conversation's messages (they stay in the
/// spool, unanswered, so a kill loses none) from the first one on for the digest period, or
/// until `digest_max` of them, then mails them as one message per recipient and only then
/// reports every one of them delivered. A failed digest reports its outcome for each message
/// (each keeps its own retry count), so they come back, are held again and go out together.
/// A "digest" of one message is that message's ordinary mail.
public final class EmailSink: Sink {
    public let name: String
    let settings: EmailSinkSettings
    let setup: EmailReplySetup
    private let curl: CurlMulti
    private let loop: EventLoop
    let log: Logger
    weak var host: SinkHost?
    private let password: String?
    /// The template of a route, as the configuration in force says now (a reload reaches a
    /// running sink: mails are rendered when they are sent).
    let template: (String) -> Template?
    private var inFlight: RequestID?
    private var stopped = false
    /// (event, recipient) pairs the server accepted, so a retry after a partial failure does not
    /// mail those recipients again (kept in a file with several recipients, so after a restart too).
    let accepted: EmailAcceptedLog
    /// Messages waiting for the SMTP connection, one batch (one mail per recipient) each, in order;
    /// the first is being sent while `inFlight` is set.
    private var due: [[Held]] = []
    private var dueHead = 0
    /// Digests collecting, by tenant and conversation.
    private var collecting: [String: Collecting] = [:]
    private var poller: EmailIMAPPoller?
    private let inbound: EmailInbound
    private let seen: EmailSeenSet

    /// A message the sink holds, with the runner's callback.
    struct Held {
        let delivery: Delivery
        let event: RoutableEvent
        let done: (DeliveryOutcome) -> Void
    }

    private struct Collecting {
        var items: [Held] = []
        var timer: TimerID?
    }

    /// The most messages held for digests at once, across conversations (the sink's capacity):
    /// more wait in the spool until a digest leaves.
    public static let digestCapacity = 1000

    /// Creates the sink; `template` gives a route's template (the body of a mail).
    public init(settings: SinkSettings, email: EmailSinkSettings, tenants: [String], template: @escaping (String) -> Template?,
                spoolDirectory: String?, curl: CurlMulti, loop: EventLoop, logger: Logger, host: SinkHost) throws(SinkSetupError) {
        name = settings.name
        self.settings = email
        self.curl = curl
        self.loop = loop
        self.log = logger.with("sink", settings.name)
        self.host = host
        self.template = template
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
        accepted = EmailAcceptedLog(files: setup.recipients.count > 1 ? files : nil)
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

    private var digestMs: Int { WebhookSink.ms(settings.digest) }
    public var capacity: Int { digestMs > 0 ? Self.digestCapacity : 1 }
    /// In digest mode the runner hands over a conversation's messages without waiting for the
    /// previous one: they are held together.
    public var pipelinesConversations: Bool { digestMs > 0 }

    // MARK: out

    public func deliver(_ delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void) {
        guard !stopped else { return }
        let event: RoutableEvent
        switch Self.message(delivery) {
        case .failure(let e): return done(.failed(reason: e.reason))
        case .success(nil): return done(.delivered)
        case .success(let e?): event = e
        }
        let held = Held(delivery: delivery, event: event, done: done)
        guard digestMs > 0 else {
            due.append([held])
            return sendNext()
        }
        let key = event.tenant + "\u{0}" + (event.conversationId ?? "")
        var c = collecting[key] ?? Collecting()
        c.items.append(held)
        if c.items.count >= settings.digestLimit {
            if let t = c.timer { loop.cancel(t) }
            collecting[key] = nil
            due.append(c.items)
            return sendNext()
        }
        if c.timer == nil { c.timer = loop.schedule(afterMilliseconds: digestMs) { [weak self] in self?.digestDue(key) } }
        collecting[key] = c
        log.debug("message held for a digest", [("id", delivery.eventId), ("conversation", event.conversationId ?? ""),
                                                 ("held", String(c.items.count))])
    }

    private func digestDue(_ key: String) {
        guard !stopped, let c = collecting.removeValue(forKey: key) else { return }
        due.append(c.items)
        sendNext()
    }

    /// Starts the next batch when the connection is free.
    private func sendNext() {
        guard !stopped, inFlight == nil, dueHead < due.count else { return }
        let batch = due[dueHead]
        switch mails(for: batch) {
        case .failure(let e):
            finish(.failed(reason: e.reason))
            return sendNext()
        case .success(let mails):
            transmit(mails[...])
        }
    }

    /// Sends a batch's mails one after the other; the first failure ends the batch.
    private func transmit(_ mails: ArraySlice<Mail>) {
        guard let mail = mails.first else {
            finish(.delivered)
            return sendNext()
        }
        var request = MailTransferRequest(url: settings.smtp)
        request.requireTLS = settings.starttls
        request.username = settings.username
        request.password = password
        request.caFile = settings.caFile
        request.connectTimeoutMs = WebhookSink.ms(settings.connectTimeout)
        request.timeoutMs = WebhookSink.ms(settings.timeout)
        request.mailFrom = setup.from.address
        request.recipients = [mail.recipient]
        request.upload = mail.bytes
        inFlight = curl.perform(mail: request) { [weak self] result in
            guard let self else { return }
            self.inFlight = nil
            guard !self.stopped else { return }
            (self.host as? Bridge)?.count("mojo_bridge_email_smtp_total", "SMTP submissions by result (the reply code, or curl_N)",
                                          [("sink", self.name), ("result", result.succeeded ? "ok" : result.replyCode >= 400 ? String(result.replyCode) : "curl_\(result.curlCode)")])
            if result.succeeded {
                self.accepted.record(mail.eventIds, recipient: mail.recipient)
                self.log.debug("mail accepted", [("ids", mail.eventIds.joined(separator: ",")), ("to", mail.recipient), ("reply", result.serverReply)])
                return self.transmit(mails.dropFirst())
            }
            self.finish(Self.outcome(result, starttls: self.settings.starttls))
            self.sendNext()
        }
    }

    /// Reports the outcome of the batch being sent for each of its messages: in reverse order,
    /// so the runner sees the conversation's first message last and retries from it.
    private func finish(_ outcome: DeliveryOutcome) {
        let batch = due[dueHead]
        dueHead += 1
        if dueHead == due.count {
            due.removeAll(keepingCapacity: true)
            dueHead = 0
        } else if dueHead > 64 {
            due.removeFirst(dueHead)
            dueHead = 0
        }
        if outcome == .delivered { accepted.forget(batch.map(\.delivery.eventId)) }
        if batch.count > 1, outcome == .delivered { log.info("digest mailed", [("messages", String(batch.count))]) }
        for held in batch.reversed() { held.done(outcome) }
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
        // A mail in flight, and every message held for a digest, is abandoned: the runner's
        // callbacks are never called, so the events stay spooled and are sent after a restart.
        if let id = inFlight { curl.cancel(id) }
        inFlight = nil
        for c in collecting.values { if let t = c.timer { loop.cancel(t) } }
        collecting = [:]
        due = []
        dueHead = 0
        done()
    }
}
