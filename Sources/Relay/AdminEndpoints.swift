import Admin
import Crypto
import Diagnostics
import HTTP
import JSON
import Mojo
import Rules
import Transport

/// The admin HTTP API of `mojo-bridge run`:
/// - `GET /healthz`: 200 while the process serves requests;
/// - `GET /readyz`: 200 when every tenant session is connected and the spool is writable, else 503
///   with the reasons; with `admin { readiness = sidecar }` sessions that are down are reported
///   (`"mojo": "degraded"`) but only an unwritable spool answers 503;
/// - `GET /metrics`: Prometheus text format;
/// - `GET /v1/status`: the live view as JSON (`mojo-bridge status`); no token, like `/metrics`;
/// - `POST /v1/spool/<sink>/retry`: dead letters back in line (bearer token);
/// - `POST /v1/reload`: reload the configuration file, like SIGHUP (bearer token);
/// - `POST /v1/sinks/<sink>/commands`: commands in the shared vocabulary (one object or an array)
///   from a webhook consumer: async replies, typing, read. Authenticated by a Standard Webhooks
///   signature with one of the sink's secrets and a `webhook-id` starting with `in_` (the signed
///   direction marker: deliveries go out as `evt_...`, so one cannot be replayed in; a replayed
///   `webhook-id` or a timestamp more than 5 minutes off is refused), or by
///   `Authorization: Bearer <admin token>`. Hops: from the `inReplyTo` event, else the `hops`
///   sent back, else those of the conversation's latest event. A single `message:send`
///   waits up to `answerWaitMs` for the server: 200 with the message id, 422 with the server's
///   error, else 202 with the command id.
public final class AdminEndpoints {
    private let bridge: Bridge
    private var seenIDs: [String: Int64] = [:]
    private let loop: EventLoop
    private let log: Logger
    /// The `webhook-id` prefix every signed inbound command must use (a signed direction marker).
    public static let inboundIDPrefix = "in_"
    /// How long a `message:send` request waits for the server's answer.
    public var answerWaitMs = 5000
    /// The router to hand to an `AdminServer`.
    public let router = AdminRouter()

    /// Routes for `bridge`; secrets are read now (and again with `reload`).
    public init(bridge: Bridge, loop: EventLoop, logger: Logger) {
        self.bridge = bridge
        self.loop = loop
        self.log = logger
        reloadSecrets()
        router.get("/healthz") { _, _, respond in respond(.json(200, ["status": "ok"])) }
        router.get("/readyz") { [weak self] _, _, respond in self?.readiness(respond) }
        router.get("/metrics") { [weak self] _, _, respond in
            guard let self else { return }
            respond(HTTPServerResponse(status: 200, headers: [("Content-Type", MetricsRegistry.contentType)],
                                       body: Array(self.bridge.renderMetrics().utf8)))
        }
        router.get("/v1/status") { [weak self] _, _, respond in
            guard let self else { return }
            respond(.json(200, self.bridge.statusJSON()))
        }
        router.addPrefix("POST", "/v1/sinks/") { [weak self] request, peer, respond in self?.inbound(request, peer: peer, respond) }
        router.addPrefix("POST", "/v1/spool/") { [weak self] request, peer, respond in self?.spoolRetry(request, peer: peer, respond) }
        router.post("/v1/reload") { [weak self] request, peer, respond in self?.reload(request, peer: peer, respond) }
    }

    /// What `POST /v1/reload` runs (the daemon's SIGHUP handler): nil when the new configuration
    /// was applied, else the errors that kept the running one in force.
    public var onReload: (() -> [String]?)?

    /// The admin token, read at every use (a rotated `file:` takes effect at once); nil when
    /// none is configured or it cannot be read.
    private var adminToken: String? {
        guard let ref = bridge.config.admin?.token, case .success(let t) = SecretResolver.value(of: ref), !t.isEmpty else { return nil }
        return t
    }

    /// Whether the request carries the admin bearer token.
    private func hasAdminToken(_ request: HTTPServerRequest) -> Bool {
        guard let adminToken, let auth = request.head.header("Authorization"), auth.hasPrefix("Bearer ") else { return false }
        return ConstantTime.equals(Array(auth.dropFirst(7).utf8), Array(adminToken.utf8))
    }

    /// `POST /v1/reload` (bearer token only): reloads the configuration file like SIGHUP (for
    /// platforms with no signal to send, such as a Kubernetes ConfigMap update). 200 with what
    /// changed's log line written, 422 with the errors when the new configuration is refused.
    private func reload(_ request: HTTPServerRequest, peer: String, _ respond: @escaping (HTTPServerResponse) -> Void) {
        guard hasAdminToken(request) else {
            log.warn("reload refused", [("peer", peer)])
            return respond(.jsonError(401, "send Authorization: Bearer <admin token> (admin { token = ... })"))
        }
        guard let onReload else { return respond(.jsonError(404, "reload is not available here")) }
        log.info("reload requested through the admin API", [("peer", peer)])
        if let errors = onReload() {
            respond(.json(422, ["status": "refused", "errors": .array(errors.map { .string($0) })]))
        } else {
            respond(.json(200, ["status": "reloaded"]))
        }
    }

    /// Kept for callers of the former API: secrets are now read at every use.
    public func reloadSecrets() {}

    /// The sink's signing secrets, read now (a rotated `file:` takes effect at once).
    private func signingSecrets(of sink: String) -> [WebhookSecret] {
        guard let settings = bridge.config.sink(named: sink), let kind = SinkKinds.named(settings.kind.name) else { return [] }
        return kind.secrets(settings).compactMap { ref in
            guard case .success(let text) = SecretResolver.value(of: ref) else { return nil }
            return try? WebhookSecret(text)
        }
    }

    private func readiness(_ respond: @escaping (HTTPServerResponse) -> Void) {
        var reasons: [JSONValue] = []
        for (tenant, session) in bridge.tenantSessions.sorted(by: { $0.key < $1.key }) where !session.isConnected {
            let why = session.lastFailure?.description ?? "connecting"
            reasons.append(.string("tenant \(tenant) not connected: \(why)"))
        }
        // A shard may hold no tenant at all (`--shard`): then there is nothing to wait for.
        if bridge.tenantSessions.isEmpty && !bridge.config.tenants.isEmpty { reasons.append("no tenant session") }
        for problem in bridge.sinkProblems { reasons.append(.string(problem)) }
        if bridge.durable && !SpoolDirectory.isWritable(bridge.config.spool.directory) {
            reasons.append(.string("spool directory \(bridge.config.spool.directory) is not writable"))
        }
        for (name, full) in bridge.spoolsFull() { reasons.append(.string("spool full: sink \(name) (\(full))")) }
        if reasons.isEmpty {
            respond(.json(200, ["status": "ready"]))
        } else if bridge.config.admin?.readiness == .sidecar,
                  !reasons.contains(where: { $0.stringValue?.hasPrefix("spool") == true }) {
            // A sidecar stays in its Service while MOJO is away: reported, not failed.
            respond(.json(200, ["status": "ready", "mojo": "degraded", "reasons": .array(reasons)]))
        } else {
            respond(.json(503, ["status": "not ready", "reasons": .array(reasons)]))
        }
    }

    private func inbound(_ request: HTTPServerRequest, peer: String, _ respond: @escaping (HTTPServerResponse) -> Void) {
        let parts = request.head.path.split(separator: "/")
        guard parts.count == 4, parts[3] == "commands" else { return respond(.jsonError(404, "not found")) }
        let sink = String(parts[2])
        guard bridge.config.sink(named: sink) != nil else { return respond(.jsonError(404, "no sink \(sink)")) }
        if let failure = authenticate(request, sink: sink) {
            log.warn("inbound request refused", [("sink", sink), ("peer", peer), ("reason", failure.1)])
            return respond(.jsonError(failure.0, failure.1))
        }
        let json: JSONValue
        do { json = try JSONValue(parsing: request.body) } catch {
            return respond(.jsonError(400, "body is not JSON: \(error.description)"))
        }
        let items = json.arrayValue ?? [json]
        guard !items.isEmpty, items.count <= 100 else { return respond(.jsonError(400, "send 1 to 100 commands")) }
        var commands: [Envelope.Inbound] = []
        for (i, item) in items.enumerated() {
            var bytes: [UInt8] = []
            item.serialize(into: &bytes)
            do {
                var inbound = try Envelope.parseCommand(bytes, plainText: false) { [bridge] inReplyTo in
                    inReplyTo.flatMap { bridge.recentEvent($0)?.conversationId }
                }
                // Hops travel with every inbound path: from the answered event, else as declared,
                // else those of the conversation's latest event (a consumer that says nothing
                // cannot restart a reply chain at 0).
                if inbound.inReplyTo == nil, inbound.hops == nil, let c = inbound.command.conversationId {
                    inbound.hops = bridge.latestHops(tenant: inbound.tenant, conversation: c)
                }
                commands.append(inbound)
            } catch {
                return respond(.jsonError(400, items.count == 1 ? error.description : "command \(i): \(error.description)"))
            }
        }
        let context = ReplyContext.none
        if commands.count == 1, case .send = commands[0].command {
            return single(commands[0], sink: sink, context: context, respond)
        }
        var results: [JSONValue] = []
        for c in commands {
            switch bridge.submit(sink, c, context: context) {
            case .success(let id): results.append(["status": "accepted", "id": id.map { .string($0) } ?? .null])
            case .failure(let r): results.append(["status": "rejected", "error": .string(r.description)])
            }
        }
        let allRejected = results.allSatisfy { $0["status"]?.stringValue == "rejected" }
        respond(.json(allRejected ? 403 : 202, ["results": .array(results)]))
    }

    /// `POST /v1/spool/<sink>/retry` (bearer token only), body `{"ids": [...]}` or empty for all:
    /// dead letters back in line without stopping the daemon.
    private func spoolRetry(_ request: HTTPServerRequest, peer: String, _ respond: @escaping (HTTPServerResponse) -> Void) {
        let parts = request.head.path.split(separator: "/")
        guard parts.count == 4, parts[3] == "retry" else { return respond(.jsonError(404, "not found")) }
        guard hasAdminToken(request) else {
            log.warn("spool retry refused", [("peer", peer)])
            return respond(.jsonError(401, "send Authorization: Bearer <admin token> (admin { token = ... })"))
        }
        var ids: [String] = []
        if !request.body.isEmpty {
            guard let json = try? JSONValue(parsing: request.body), let list = json["ids"]?.arrayValue else {
                return respond(.jsonError(400, "body must be {\"ids\": [\"evt_...\"]} or empty"))
            }
            ids = list.compactMap(\.stringValue)
        }
        guard let n = bridge.retryDeadLetters(sink: String(parts[2]), ids: ids) else {
            return respond(.jsonError(404, "no sink \(parts[2])"))
        }
        log.info("dead letters retried through the admin API", [("sink", String(parts[2])), ("count", String(n))])
        respond(.json(200, ["retried": JSONValue(n)]))
    }

    /// One `message:send`: answered with the server's verdict when it comes in time.
    private func single(_ command: Envelope.Inbound, sink: String, context: ReplyContext, _ respond: @escaping (HTTPServerResponse) -> Void) {
        var answered = false
        var timer: TimerID?
        let result = bridge.submit(sink, command, context: context) { outcome in
            guard !answered else { return }
            answered = true
            if let timer { self.loop.cancel(timer) }
            switch outcome {
            case .sent(let messageId): respond(.json(200, ["status": "message:sent", "messageId": .string(messageId)]))
            case .refused(let error): respond(.json(422, ["status": "message:error", "error": .string(error)]))
            }
        }
        switch result {
        case .failure(let r):
            answered = true
            respond(.jsonError(r == .stopping ? 503 : 403, r.description))
        case .success(let id):
            timer = loop.schedule(afterMilliseconds: answerWaitMs) { [weak self] in
                guard !answered else { return }
                answered = true
                if let id { self?.bridge.forgetWaiter(id) }
                respond(.json(202, ["status": "accepted", "id": id.map { .string($0) } ?? .null]))
            }
        }
    }

    /// nil when the request is authentic, else the status and reason.
    private func authenticate(_ request: HTTPServerRequest, sink: String) -> (Int, String)? {
        if let auth = request.head.header("Authorization"), auth.hasPrefix("Bearer ") {
            guard let adminToken, !adminToken.isEmpty else { return (401, "bearer tokens are not enabled (set admin { token = ... })") }
            let given = Array(auth.dropFirst(7).utf8)
            return ConstantTime.equals(given, Array(adminToken.utf8)) ? nil : (401, "bad bearer token")
        }
        let keys = signingSecrets(of: sink)
        guard !keys.isEmpty else {
            return (401, "no credentials: sign with the sink's webhook secret, or send Authorization: Bearer <admin token>")
        }
        guard let id = request.head.header(StandardWebhooks.idHeader),
              let tsText = request.head.header(StandardWebhooks.timestampHeader),
              let signature = request.head.header(StandardWebhooks.signatureHeader) else {
            return (401, "missing webhook-id, webhook-timestamp or webhook-signature")
        }
        guard let ts = StandardWebhooks.parseTimestamp(tsText) else { return (401, "bad webhook-timestamp") }
        // The direction marker: outbound deliveries are signed with ids `evt_...`, inbound commands
        // must be signed with ids `in_...`. The id is covered by the signature, so a captured
        // outbound delivery cannot be replayed here as a command.
        guard id.hasPrefix(Self.inboundIDPrefix) else {
            return (401, "webhook-id must start with `\(Self.inboundIDPrefix)` for inbound commands (outbound deliveries are not commands)")
        }
        let now = Timestamp.nowUnixMilliseconds() / 1000
        if case .failure(let e) = StandardWebhooks.verify(id: id, timestamp: ts, body: request.body, signatureHeader: signature,
                                                          secrets: keys, now: now) {
            return (401, e.description)
        }
        // Replays: a webhook-id is accepted once within the timestamp tolerance.
        seenIDs = seenIDs.filter { now - $0.value <= StandardWebhooks.defaultTolerance * 2 }
        if seenIDs[id] != nil { return (409, "webhook-id \(id) was already received") }
        seenIDs[id] = now
        return nil
    }
}
