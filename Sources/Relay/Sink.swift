import Mojo
import Rules
import Transport

/// One event handed to a sink: what to send and where it came from.
public struct Delivery: Sendable {
    /// The event id of the shared vocabulary: stable across retries (the idempotency key).
    public var eventId: String
    /// The tenant the event belongs to.
    public var tenant: String
    /// The route that chose this sink.
    public var route: String
    /// The event name (`message:new`, ...).
    public var type: String
    /// The conversation, when the event has one.
    public var conversationId: String?
    /// What goes out: the JSON envelope, or the route's rendered template (no trailing newline).
    public var payload: [UInt8]
    /// How many sink replies led to this event (0 for events people made); bounds loops.
    public var hops: Int
    /// Small key/value strings a sink attaches (an email subject, ...): spooled with the event
    /// and handed back with it on every attempt.
    public var attributes: [(String, String)] = []
}

/// Where a command from a sink came from, so the bridge can send it to the right place.
///
/// The reply pipeline's rules (``Bridge/submit(_:_:context:answer:)``): a command naming its
/// `tenant` goes there; one naming `inReplyTo` takes the tenant, default conversation and hops of
/// that event; otherwise a `certain` context (a per-conversation child, a webhook response, the
/// event a child named) gives them; an uncertain one (a per-route child's last line read) only
/// gives the conversation of a command that has none written, and only when not `ambiguous`.
public struct ReplyContext: Sendable {
    /// The tenant of the event that reached the sink, if known.
    public var tenant: String?
    /// The conversation the sink is bound to (a per-conversation child), or of its last event.
    public var conversationId: String?
    /// The hops of the event the sink was answering.
    public var hops: Int
    /// The envelope id of the event this context describes, when known.
    public var answering: String?
    /// Whether the context is the event being answered for sure. False for the last line a
    /// per-route child read: a guess that only a command without a written conversation uses.
    public var certain: Bool
    /// Why the uncertain context cannot be used (the child read events of several conversations
    /// since its last line); nil when it can.
    public var ambiguity: String?

    public init(tenant: String?, conversationId: String?, hops: Int, answering: String? = nil, certain: Bool = true,
                ambiguity: String? = nil) {
        self.tenant = tenant
        self.conversationId = conversationId
        self.hops = hops
        self.answering = answering
        self.certain = certain
        self.ambiguity = ambiguity
    }

    /// No context at all (the admin API): only the command and its `inReplyTo` say where it goes.
    public static let none = ReplyContext(tenant: nil, conversationId: nil, hops: 0, certain: false)
}

/// An event recently handed to sinks, as a reply naming it (`inReplyTo`) needs it.
public struct AnsweredEvent: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var conversationId: String?
    public var hops: Int

    public init(id: String, tenant: String, conversationId: String?, hops: Int) {
        self.id = id
        self.tenant = tenant
        self.conversationId = conversationId
        self.hops = hops
    }
}

/// What a sink calls back: commands it produced.
public protocol SinkHost: AnyObject {
    /// The sink `sink` sent `command`; `context` says what it was answering.
    func sink(_ sink: String, sent command: Envelope.Inbound, context: ReplyContext)
    /// A recently routed event by envelope id (for `inReplyTo`); nil when unknown or forgotten.
    func recentEvent(_ id: String) -> AnsweredEvent?
}

extension SinkHost {
    public func recentEvent(_ id: String) -> AnsweredEvent? { nil }
}

/// How one delivery attempt ended.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The sink accepted it (2xx, the child read the line, SMTP 250): it leaves the spool.
    case delivered
    /// A transient failure (network, timeout, 408, 429, 5xx): try again after the schedule's next
    /// delay, or after `afterMs` when the receiver asked for longer (Retry-After).
    case retry(reason: String, afterMs: Int?)
    /// A permanent failure (other 4xx): dead-letter at once.
    case failed(reason: String)
    /// The receiver is gone for good (410): the sink stops delivering until reloaded.
    case disabled(reason: String)
}

/// An outbound channel (pipe, webhook, email). The `SinkRunner` in front of it owns the durable
/// queue, ordering and retries; the sink only attempts deliveries.
public protocol Sink: AnyObject {
    /// The sink's name in the config.
    var name: String { get }
    /// How many deliveries may be in flight at once.
    var capacity: Int { get }
    /// How many payload bytes may be in flight at once (one delivery always may): what a sink
    /// holds in memory for events it has not finished, whatever their size. Default: no bound
    /// beyond `capacity`.
    var capacityBytes: Int { get }
    /// Whether several deliveries of one conversation may be in flight together (a pipe keeps
    /// them in order itself; an HTTP endpoint does not).
    var pipelinesConversations: Bool { get }
    /// Attempts one delivery; `done` reports the outcome exactly once (never, if the sink is
    /// stopped first: the event stays spooled and is delivered after a restart).
    func deliver(_ delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void)
    /// Stops: finishes or keeps what is in flight within `graceMs`, then calls `done` once.
    func stop(graceMs: Int, _ done: @escaping () -> Void)
}

extension Sink {
    public var capacityBytes: Int { .max }
}

/// Builds the sink for a `SinkSettings`; nil when the kind is not available in this build; an
/// error when its settings cannot be used (a secret that cannot be read, ...).
public typealias SinkFactory = (_ settings: SinkSettings, _ host: SinkHost) throws(SinkSetupError) -> Sink?
