import JSON
import Mojo
import Rules

/// Why a command from a sink was not sent.
public enum CommandRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// No tenant could be chosen, or the tenant is not configured.
    case unknownTenant(String)
    /// Where the command goes cannot be told for sure (never guessed): the reason.
    case ambiguous(String)
    /// No route lets this sink send this command (the route's failure, in words).
    case notAllowed(String)
    /// The tenant's send buffer is full.
    case bufferFull
    /// The daemon is stopping.
    case stopping

    public var description: String {
        switch self {
        case .unknownTenant(let why): why
        case .ambiguous(let why): why
        case .notAllowed(let why): "no route lets this sink send it (\(why))"
        case .bufferFull: "the tenant's send buffer is full"
        case .stopping: "the daemon is stopping"
        }
    }
}

/// What the server said to a reply, for callers that wait (the admin inbound endpoint).
public enum ReplyResult: Sendable, Equatable {
    case sent(messageId: String)
    case refused(error: String)
}

extension Bridge {
    /// A command from a sink: logged and dropped when it cannot be sent.
    public func sink(_ sinkName: String, sent inbound: Envelope.Inbound, context: ReplyContext) {
        if case .failure(let rejection) = submit(sinkName, inbound, context: context) {
            count("mojo_bridge_commands_dropped_total", "Commands from sinks not sent", [("sink", sinkName)])
            log.warn("command from sink dropped", [("sink", sinkName), ("command", inbound.command.eventName),
                                                   ("conversation", inbound.command.conversationId ?? ""), ("reason", rejection.description)])
        }
    }

    /// Checks that a route lets `sinkName` send the command, then hands it to the tenant's
    /// session. A `message:send` is spooled first; `answer` (if given) hears what the server says
    /// to it. Returns the command's id (the reply spool id for a `message:send`).
    @discardableResult
    public func submit(_ sinkName: String, _ inbound: Envelope.Inbound, context given: ReplyContext,
                       answer: ((ReplyResult) -> Void)? = nil) -> Result<String?, CommandRejection> {
        guard !stopping else { return .failure(.stopping) }
        let command = inbound.command
        let context: ReplyContext
        switch resolve(sinkName, inbound, context: given) {
        case .failure(let r): return .failure(r)
        case .success(let c): context = c
        }
        let tenant: String
        switch replyTenant(sinkName, inbound, context: context) {
        case .failure(let r): return .failure(r)
        case .success(let t): tenant = t
        }
        guard let session = sessions[tenant] else { return .failure(.unknownTenant("tenant \(tenant) is not configured")) }
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
            return .failure(.notAllowed(why))
        }
        var id = inbound.id
        switch command {
        case .typingStart(let c), .typingStop(let c):
            let start: Bool
            if case .typingStart = command { start = true } else { start = false }
            // Rate-limited repeats are accepted and dropped: the indicator is on already.
            guard typing.allow(start: start, tenant: tenant, conversation: c, now: timers.now) else { return .success(id) }
        case .send(let c, let content, _, _):
            id = spoolReply(command, id: inbound.id, tenant: tenant, sink: sinkName, hops: context.hops + 1) ?? inbound.id
            forgetUnanswered(origins.record(tenant: tenant, conversation: c, content: content,
                                            origin: .init(sink: sinkName, hops: context.hops + 1, commandId: id), now: timers.now))
            if let answer, let id { replyWaiters[id] = answer }
        default:
            break
        }
        guard session.emit(command) else { return .failure(.bufferFull) }
        count("mojo_bridge_commands_total", "Commands from sinks sent to MOJO", [("sink", sinkName), ("command", command.eventName)])
        return .success(id)
    }

    /// A recently routed event (for a sink's `inReplyTo`).
    public func recentEvent(_ id: String) -> AnsweredEvent? { recent.find(id) }

    /// The hops of the newest event of a conversation handed to sinks (nil when none is remembered).
    public func latestHops(tenant: String?, conversation: String) -> Int? {
        recent.latestHops(tenant: tenant, conversation: conversation)
    }

    /// The context of a command: the event its `inReplyTo` names when the sink did not resolve it,
    /// with the hops the sender declares if higher (a consumer cannot lower them).
    func resolve(_ sinkName: String, _ inbound: Envelope.Inbound, context: ReplyContext) -> Result<ReplyContext, CommandRejection> {
        var context = context
        if let r = inbound.inReplyTo, r != context.answering {
            guard let event = recent.find(r) else {
                // Known to nobody: only a command that says where it goes may still go.
                guard inbound.tenant != nil || tenantsReached(by: sinkName).count == 1, !inbound.implicitConversation else {
                    return .failure(.ambiguous("inReplyTo \(r) is not a recent event (expired or never delivered) and the command does not name its tenant and conversation"))
                }
                context = ReplyContext(tenant: nil, conversationId: nil, hops: max(context.hops, inbound.hops ?? 0), certain: false)
                return .success(context)
            }
            context = ReplyContext(tenant: event.tenant, conversationId: event.conversationId, hops: event.hops, answering: event.id)
        }
        context.hops = max(context.hops, inbound.hops ?? 0)
        return .success(context)
    }

    /// The tenant a command goes to. It never crosses tenants unless it names its tenant: a
    /// named tenant, else the answered event's (a certain context), else, for a command whose
    /// conversation came from a per-route child's last line read, that line's (refused when
    /// ambiguous), else the only tenant the sink's routes reach (refused when they span several).
    func replyTenant(_ sinkName: String, _ inbound: Envelope.Inbound, context: ReplyContext) -> Result<String, CommandRejection> {
        if let t = inbound.tenant { return .success(t) }
        if context.certain, let t = context.tenant { return .success(t) }
        if inbound.implicitConversation, !context.certain {
            if let why = context.ambiguity {
                return .failure(.ambiguous("\(why): say which event the line answers (JSON with inReplyTo, or conversationId and tenant)"))
            }
            if let t = context.tenant { return .success(t) }
        }
        let reach = tenantsReached(by: sinkName)
        if reach.count == 1 { return .success(reach[0]) }
        if reach.isEmpty {
            return .failure(.unknownTenant("no tenant: the command names none and no route of sink \(sinkName) reaches a configured tenant"))
        }
        return .failure(.ambiguous("the command names no tenant and the routes of sink \(sinkName) span \(reach.count) tenants: add \"tenant\" (or \"inReplyTo\")"))
    }

    /// The configured tenants whose events a route feeding `sinkName` can carry.
    func tenantsReached(by sinkName: String) -> [String] { config.tenants(reaching: sinkName) }

    /// Stops waiting for the answer to `id` (the caller timed out).
    public func forgetWaiter(_ id: String) { replyWaiters.removeValue(forKey: id) }
}
