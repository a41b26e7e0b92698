import Crypto
import Curl
import Diagnostics
import JSON
import Mojo
import Rules
import HTTP
import Transport

/// `type = webhook`: each delivery POSTed to the sink's URL with Standard Webhooks headers
/// (`webhook-id` = the event id, stable across retries; `webhook-timestamp`; `webhook-signature`
/// with every configured secret). Redirects are not followed. A 2xx answer may carry replies:
/// one command or an array of commands in the shared vocabulary, or `{"reply":"text"}`.
public final class WebhookSink: Sink {
    public let name: String
    private let settings: WebhookSinkSettings
    /// The secrets' HMAC keys, prepared once and again when a `file:` secret changes.
    let keys: SigningKeys
    private let curl: CurlMulti
    private let log: Logger
    private weak var host: SinkHost?
    private var inFlight: [RequestID: (DeliveryOutcome) -> Void] = [:]
    private var stopped = false

    /// Creates the sink; fails when a secret cannot be read or is not a valid `whsec_` secret.
    public init(settings: SinkSettings, webhook: WebhookSinkSettings, curl: CurlMulti, logger: Logger, host: SinkHost) throws(SinkSetupError) {
        name = settings.name
        self.settings = webhook
        self.curl = curl
        self.log = logger.with("sink", settings.name)
        self.host = host
        do throws(SecretError) { keys = try SigningKeys(webhook.secrets) } catch {
            throw SinkSetupError(sink: settings.name, reason: error.description)
        }
    }

    public var capacity: Int { settings.concurrency }
    public var pipelinesConversations: Bool { false }

    public func deliver(_ delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void) {
        guard !stopped else { return }
        let timestamp = Timestamp.nowUnixMilliseconds() / 1000
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("User-Agent", "mojo-bridge/\(bridgeVersion)"),
            (StandardWebhooks.idHeader, delivery.eventId),
            (StandardWebhooks.timestampHeader, String(timestamp)),
        ]
        switch keys.current() {
        case .failure(let e):
            log.error("signing key unusable; delivery retried later", [("id", delivery.eventId), ("reason", e.description)])
            return done(.retry(reason: "signing key: \(e.description)", afterMs: nil))
        case .success(let signer?):
            do {
                headers.append((StandardWebhooks.signatureHeader,
                                try signer.sign(id: delivery.eventId, timestamp: timestamp, body: delivery.payload)))
            } catch {
                return done(.retry(reason: "signing failed: \(error.description)", afterMs: nil))
            }
        case .success(nil):
            break
        }
        for (n, v) in settings.headers { headers.append((n, v)) }
        var request = HTTPRequest(method: "POST", url: settings.url, headers: headers, body: delivery.payload,
                                  connectTimeoutMs: settings.connectTimeout.wholeMilliseconds, timeoutMs: settings.timeout.wholeMilliseconds,
                                  caFile: settings.caFile, followRedirects: false, maxResponseBytes: 1 << 20)
        request.addressPolicy = settings.allowPrivate ? .any : .publicOnly
        var id: RequestID?
        id = curl.perform(request) { [weak self] result in
            guard let self else { return }
            if let id { self.inFlight.removeValue(forKey: id) }
            done(self.outcome(result, delivery: delivery))
        }
        if let id { inFlight[id] = done }
    }

    /// Maps a response to an outcome (the Standard Webhooks delivery rules), relaying replies.
    func outcome(_ result: Result<HTTPResponse, HTTPError>, delivery: Delivery) -> DeliveryOutcome {
        switch result {
        case .failure(let e):
            if e.message.contains("(SSRF guard)") {
                return .failed(reason: "\(e.message); set allow_private = true to allow it")
            }
            return .retry(reason: e.description, afterMs: nil)
        case .success(let r):
            switch r.status {
            case 200..<300:
                relayReplies(r.body, delivery: delivery)
                return .delivered
            case 410:
                return .disabled(reason: "HTTP 410 Gone from \(URLRedaction.redact(settings.url))")
            case 408, 429, 500..<600:
                return .retry(reason: "HTTP \(r.status)", afterMs: Self.retryAfterMs(r.value(forHeader: "Retry-After")))
            case 300..<400:
                return .failed(reason: "HTTP \(r.status): redirects are not followed (point the sink at the final URL)")
            default:
                return .failed(reason: "HTTP \(r.status)")
            }
        }
    }

    /// Replies in a 2xx body: a command, an array of commands, or `{"reply": "text"}` for the
    /// delivery's conversation. Anything else (empty, plain text, other JSON) is no reply.
    private func relayReplies(_ body: [UInt8], delivery: Delivery) {
        guard body.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
              let json = try? JSONValue(parsing: body) else { return }
        let context = ReplyContext(tenant: delivery.tenant, conversationId: delivery.conversationId, hops: delivery.hops,
                                   answering: delivery.eventId)
        let items: [JSONValue]
        if let text = json["reply"]?.stringValue {
            guard let c = delivery.conversationId else { return }
            host?.sink(name, sent: Envelope.Inbound(id: nil, tenant: delivery.tenant, command: .send(conversationId: c, content: text)), context: context)
            return
        } else if let array = json.arrayValue {
            items = array
        } else if json["type"] != nil {
            items = [json]
        } else {
            return
        }
        for item in items {
            var bytes: [UInt8] = []
            item.serialize(into: &bytes)
            do {
                let inbound = try Envelope.parseCommand(bytes, plainText: false) { [weak host] inReplyTo in
                    guard let inReplyTo, inReplyTo != delivery.eventId else { return delivery.conversationId }
                    return host?.recentEvent(inReplyTo)?.conversationId
                }
                host?.sink(name, sent: inbound, context: context)
            } catch {
                log.warn("reply in the webhook response dropped", [("id", delivery.eventId), ("reason", error.description)])
            }
        }
    }

    /// `Retry-After` in seconds or as an HTTP date; capped at one day.
    static func retryAfterMs(_ value: String?) -> Int? {
        guard let value = value?.trimmingCharacters() else { return nil }
        if let seconds = Int(value), seconds >= 0 { return min(seconds, 86_400) * 1000 }
        if let date = HTTPDate.parse(value) {
            let delta = date - Timestamp.nowUnixMilliseconds() / 1000
            return Int(max(0, min(delta, 86_400))) * 1000
        }
        return nil
    }

    /// `Duration.wholeMilliseconds` (kept for the email sink's callers).
    static func ms(_ d: Duration) -> Int { d.wholeMilliseconds }

    public func stop(graceMs: Int, _ done: @escaping () -> Void) {
        stopped = true
        // In-flight requests are abandoned; their events stay spooled and go out after a restart.
        for id in inFlight.keys { curl.cancel(id) }
        inFlight.removeAll()
        done()
    }
}

/// A sink that could not be set up (a missing secret, ...): the daemon does not start with it.
public struct SinkSetupError: Error, CustomStringConvertible {
    public var sink: String
    public var reason: String
    public var description: String { "sink \(sink): \(reason)" }

    public init(sink: String, reason: String) {
        self.sink = sink
        self.reason = reason
    }
}

/// The version in `User-Agent`.
let bridgeVersion = "0.1.0"

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
