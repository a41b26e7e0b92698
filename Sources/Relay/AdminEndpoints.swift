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
/// - `POST /v1/spool/<sink>/retry`: dead letters back in line (bearer token);
/// - `POST /v1/sinks/<sink>/commands`: commands in the shared vocabulary (one object or an array)
///   from a webhook consumer: async replies, typing, read. Authenticated by a Standard Webhooks
///   signature with one of the sink's secrets (a replayed `webhook-id` or a timestamp more than 5
///   minutes off is refused), or by `Authorization: Bearer <admin token>`. A single `message:send`
///   waits up to `answerWaitMs` for the server: 200 with the message id, 422 with the server's
///   error, else 202 with the command id.
public final class AdminEndpoints {
    private let bridge: Bridge
    private let adminToken: String?
    private var secrets: [String: [WebhookSecret]] = [:]
    private var seenIDs: [String: Int64] = [:]
    private let loop: EventLoop
    private let log: Logger
    /// How long a `message:send` request waits for the server's answer.
    public var answerWaitMs = 5000
    /// The router to hand to an `AdminServer`.
    public let router = AdminRouter()

    /// Routes for `bridge`; secrets are read now (and again with `reload`).
    public init(bridge: Bridge, loop: EventLoop, logger: Logger) {
        self.bridge = bridge
        self.loop = loop
        self.log = logger
        var token: String?
        if let ref = bridge.config.admin?.token, case .success(let t) = SecretResolver.value(of: ref) { token = t }
        adminToken = token
        reloadSecrets()
        router.get("/healthz") { _, _, respond in respond(.json(200, ["status": "ok"])) }
        router.get("/readyz") { [weak self] _, _, respond in self?.readiness(respond) }
        router.get("/metrics") { [weak self] _, _, respond in
            guard let self else { return }
            respond(HTTPServerResponse(status: 200, headers: [("Content-Type", MetricsRegistry.contentType)],
                                       body: Array(self.bridge.renderMetrics().utf8)))
        }
        router.addPrefix("POST", "/v1/sinks/") { [weak self] request, peer, respond in self?.inbound(request, peer: peer, respond) }
        router.addPrefix("POST", "/v1/spool/") { [weak self] request, peer, respond in self?.spoolRetry(request, peer: peer, respond) }
    }

    /// Re-reads the sinks' secrets after a configuration reload.
    public func reloadSecrets() {
        secrets = [:]
        for sink in bridge.config.sinks {
            guard case .webhook(let w) = sink.kind else { continue }
            secrets[sink.name] = w.secrets.compactMap { ref in
                guard case .success(let text) = SecretResolver.value(of: ref) else { return nil }
                return try? WebhookSecret(text)
            }
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
        if bridge.durable && !SpoolDirectory.isWritable(bridge.config.spool.directory) {
            reasons.append(.string("spool directory \(bridge.config.spool.directory) is not writable"))
        }
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
            do { commands.append(try Envelope.parseCommand(bytes, defaultConversation: nil, plainText: false)) } catch {
                return respond(.jsonError(400, items.count == 1 ? error.description : "command \(i): \(error.description)"))
            }
        }
        let context = ReplyContext(tenant: nil, conversationId: nil, hops: 0)
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
        guard let adminToken, !adminToken.isEmpty,
              let auth = request.head.header("Authorization"), auth.hasPrefix("Bearer "),
              ConstantTime.equals(Array(auth.dropFirst(7).utf8), Array(adminToken.utf8)) else {
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
        guard let keys = secrets[sink], !keys.isEmpty else {
            return (401, "no credentials: sign with the sink's webhook secret, or send Authorization: Bearer <admin token>")
        }
        guard let id = request.head.header(StandardWebhooks.idHeader),
              let tsText = request.head.header(StandardWebhooks.timestampHeader),
              let signature = request.head.header(StandardWebhooks.signatureHeader) else {
            return (401, "missing webhook-id, webhook-timestamp or webhook-signature")
        }
        guard let ts = StandardWebhooks.parseTimestamp(tsText) else { return (401, "bad webhook-timestamp") }
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
