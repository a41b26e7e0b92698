/// The family of an event, which routes select with `events = [...]`.
public enum EventKind: String, Sendable, CaseIterable, Hashable {
    /// `message:new` from MOJO, `message:send` from a sink.
    case message
    /// `typing:update` from MOJO, `typing:start` / `typing:stop` from a sink.
    case typing
    /// `messages:read`, both ways.
    case read
    /// `presence:online`, `presence:offline`, `presence:list` (and `presence:get`).
    case presence
    /// `conversation:joined`, `conversation:left`, `conversation:error` and the join/leave commands.
    case conversation
    /// `bridge:gap`, made by the daemon: a reconnect that was not recovered, so events of the
    /// interval may be lost (a consumer can re-fetch). Not subject to a route's conversation,
    /// message type, sender or content filters: it concerns every conversation of the tenant.
    case gap
    /// Anything else (`message:sent`, `message:error`, unknown names); no route selects it.
    case other

    /// The kind of the seed event or command called `eventName`.
    public init(eventName: String) {
        switch eventName {
        case "message:new", "message:send": self = .message
        case "typing:update", "typing:start", "typing:stop": self = .typing
        case "messages:read": self = .read
        case Self.gapEventName: self = .gap
        default:
            if eventName.hasPrefix("presence:") {
                self = .presence
            } else if eventName.hasPrefix("conversation:") {
                self = .conversation
            } else {
                self = .other
            }
        }
    }

    /// The words a route's `events` accepts: every kind but `other`, and `all`.
    static let routeWords = ["message", "typing", "read", "presence", "conversation", "gap", "all"]

    /// The event the daemon sends when a reconnect was not recovered.
    public static let gapEventName = "bridge:gap"
}

/// Which way an event travels.
public enum Direction: String, Sendable, Equatable {
    /// An event from MOJO on its way to sinks.
    case toSink = "to_sink"
    /// A command from a sink on its way to MOJO.
    case fromSink = "from_sink"
}
