import Mojo
import Relay

/// A sink that records its deliveries; the test finishes each one (or sets `outcome` to finish
/// them as they come).
public final class RecordingSink: Sink {
    public let name: String
    public let capacity: Int
    public let pipelinesConversations: Bool
    /// Deliveries started and not yet finished, oldest first.
    public private(set) var pending: [(delivery: Delivery, done: (DeliveryOutcome) -> Void)] = []
    /// Every delivery attempt, in order.
    public private(set) var attempts: [Delivery] = []
    /// When set, every delivery finishes at once with it.
    public var outcome: DeliveryOutcome?
    public private(set) var stopped = false

    public init(name: String, capacity: Int = 100, pipelinesConversations: Bool = false) {
        self.name = name
        self.capacity = capacity
        self.pipelinesConversations = pipelinesConversations
    }

    /// The event ids of the attempts, in order.
    public var attemptedIds: [String] { attempts.map(\.eventId) }

    public func deliver(_ delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void) {
        attempts.append(delivery)
        if let outcome { return done(outcome) }
        pending.append((delivery, done))
    }

    /// Finishes the oldest pending delivery (or the one of `id`) with `outcome`.
    public func finish(_ id: String? = nil, _ outcome: DeliveryOutcome = .delivered) {
        guard let index = id.map({ id in pending.firstIndex { $0.delivery.eventId == id } }) ?? (pending.isEmpty ? nil : 0) else { return }
        let entry = pending.remove(at: index)
        entry.done(outcome)
    }

    public func stop(graceMs: Int, _ done: @escaping () -> Void) {
        stopped = true
        done()
    }
}

/// A `SinkHost` that records the commands sinks send and what they answered.
public final class RecordingHost: SinkHost {
    public private(set) var commands: [(sink: String, command: Envelope.Inbound, context: ReplyContext)] = []
    /// Events `recentEvent` knows (as the bridge's memory of routed events).
    public var recent: [String: AnsweredEvent] = [:]

    public init() {}

    public func sink(_ sink: String, sent command: Envelope.Inbound, context: ReplyContext) {
        commands.append((sink, command, context))
    }

    public func recentEvent(_ id: String) -> AnsweredEvent? { recent[id] }
}
