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
}

/// Where a command from a sink came from, so the bridge can send it to the right place.
public struct ReplyContext: Sendable {
    /// The tenant of the event that reached the sink, if known.
    public var tenant: String?
    /// The conversation the sink is bound to (a per-conversation child), or of its last event.
    public var conversationId: String?
    /// The hops of the event the sink was answering.
    public var hops: Int

    public init(tenant: String?, conversationId: String?, hops: Int) {
        self.tenant = tenant
        self.conversationId = conversationId
        self.hops = hops
    }
}

/// What a sink calls back: commands it produced.
public protocol SinkHost: AnyObject {
    /// The sink `sink` sent `command`; `context` says what it was answering.
    func sink(_ sink: String, sent command: Envelope.Inbound, context: ReplyContext)
}

/// An outbound channel (pipe, webhook, email). One small protocol: take deliveries, stop.
public protocol Sink: AnyObject {
    /// The sink's name in the config.
    var name: String { get }
    /// Takes one delivery; the sink queues it within its bound and applies its when-full policy.
    func deliver(_ delivery: Delivery)
    /// Stops: finishes or keeps what is in flight within `graceMs`, then calls `done` once.
    func stop(graceMs: Int, _ done: @escaping () -> Void)
}

/// Builds the sink for a `SinkSettings`; nil when the kind is not available in this build.
public typealias SinkFactory = (_ settings: SinkSettings, _ host: SinkHost) -> Sink?
