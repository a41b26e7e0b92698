extension Route {
    /// `nil` when `event` satisfies every criterion, else the first one it fails, in words:
    /// `conversation 222 not in [11111111-*]`. Criteria are checked in the order of
    /// `Config/GRAMMAR.md`: direction, source sink, tenant, events, conversation, message type,
    /// sender (and self), content. Commands from a sink (`direction == .fromSink`) are checked
    /// up to the conversation only.
    public func failure(for event: RoutableEvent) -> String? {
        if !flow.allows(event.direction) {
            return "direction \(event.direction.rawValue) not allowed (direction = \(flow.rawValue))"
        }
        if event.direction == .fromSink, let source = event.sourceSink, !sinks.contains(source) {
            return "command from sink \(source), route sends to \(Route.list(sinks))"
        }
        if !tenants.isEmpty, !Glob.matchesAny(tenants, event.tenant) {
            return "tenant \(event.tenant) not in \(Route.list(tenants))"
        }
        let kind = event.kind
        if !events.contains(kind) {
            let names = EventKind.allCases.filter { events.contains($0) }.map(\.rawValue)
            return "event \(event.type) (\(kind.rawValue)) not in \(Route.list(names))"
        }
        // A gap concerns every conversation of the tenant: the remaining filters do not apply.
        if kind == .gap { return nil }
        if !conversations.isEmpty {
            guard let conversation = event.conversationId else { return "event has no conversation" }
            if !Glob.matchesAny(conversations, conversation) {
                return "conversation \(conversation) not in \(Route.list(conversations))"
            }
        }
        // Commands from a sink are authorised by direction, sink, tenant, kind and conversation; the
        // filters below select which MOJO events reach a sink and do not apply to its replies.
        if event.direction == .fromSink { return nil }
        if !messageTypes.isEmpty {
            guard let type = event.messageType else { return "event has no message type" }
            if !messageTypes.contains(where: { $0.uppercased() == type.uppercased() }) {
                return "message type \(type) not in \(Route.list(messageTypes))"
            }
        }
        if event.direction == .toSink, !includeSelf, let me = event.selfUserId, event.senderId == me {
            return "sender \(me) is the daemon's own user (include_self = false)"
        }
        if !senders.isEmpty {
            guard let sender = event.senderId else { return "event has no sender" }
            if !Glob.matchesAny(senders, sender) {
                return "sender \(sender) not in \(Route.list(senders))"
            }
        }
        if let content {
            guard let text = event.content else { return "event has no content" }
            if !content.matches(text) { return "content does not match \(content)" }
        }
        return nil
    }

    /// Whether `event` satisfies every criterion.
    public func matches(_ event: RoutableEvent) -> Bool { failure(for: event) == nil }

    /// What `sink` receives for `event` through this route: the template escaped for the sink,
    /// or without a template the sink's default (the JSON envelope for JSON sinks,
    /// ``Template/defaultLine`` for text pipes, ``Template/defaultBody`` for email).
    public func render(_ event: RoutableEvent, for sink: SinkSettings) -> String {
        let escaping = sink.templateEscaping
        if let template { return template.render(event, escaping: escaping) }
        switch escaping {
        case .json: return event.envelopeText()
        case .line, .header: return Template.defaultLine.render(event, escaping: escaping)
        case .body: return Template.defaultBody.render(event, escaping: .body)
        }
    }

    static func list(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
}
