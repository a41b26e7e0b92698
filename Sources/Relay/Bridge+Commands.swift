import JSON
import Mojo
import Rules

extension Bridge {
    /// A command from a sink: check that a route lets this sink send it, then hand it to the
    /// tenant's session.
    public func sink(_ sinkName: String, sent inbound: Envelope.Inbound, context: ReplyContext) {
        guard !stopping else { return }
        stats.commandsIn += 1
        let command = inbound.command
        guard let tenant = inbound.tenant ?? context.tenant ?? (config.tenants.count == 1 ? config.tenants[0].id : nil) else {
            return drop(sinkName, command, "no tenant: the command names none and the sink has not seen an event yet")
        }
        guard let session = sessions[tenant] else {
            return drop(sinkName, command, "tenant \(tenant) is not configured")
        }
        var payload = JSONObject()
        if let c = command.conversationId { payload["conversationId"] = .string(c) }
        if case .send(_, let content, let type, _) = command {
            payload["content"] = .string(content)
            if let type { payload["type"] = .string(type) }
        }
        let event = RoutableEvent(tenant: tenant, type: command.eventName, payload: .object(payload), direction: .fromSink,
                                  selfUserId: session.selfUserId, eventId: inbound.id, sourceSink: sinkName)
        guard config.routes.contains(where: { $0.matches(event) }) else {
            let why = config.routes.first { $0.sinks.contains(sinkName) }?.failure(for: event) ?? "no route sends to sink \(sinkName)"
            return drop(sinkName, command, "no route lets this sink send it (\(why))")
        }
        switch command {
        case .typingStart(let c), .typingStop(let c):
            let start: Bool
            if case .typingStart = command { start = true } else { start = false }
            guard typing.allow(start: start, tenant: tenant, conversation: c, now: loop.now) else { return }
        case .send(let c, let content, _, _):
            let replyID = spoolReply(command, id: inbound.id, tenant: tenant, sink: sinkName, hops: context.hops + 1)
            origins.record(tenant: tenant, conversation: c, content: content,
                           origin: .init(sink: sinkName, hops: context.hops + 1, commandId: replyID ?? inbound.id), now: loop.now)
        default:
            break
        }
        if !session.emit(command) {
            drop(sinkName, command, "the tenant's send buffer is full")
        }
    }

    func drop(_ sink: String, _ command: MojoCommand, _ why: String) {
        stats.commandsDropped += 1
        log.warn("command from sink dropped", [("sink", sink), ("command", command.eventName),
                                               ("conversation", command.conversationId ?? ""), ("reason", why)])
    }
}
