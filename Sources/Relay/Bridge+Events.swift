import Diagnostics
import JSON
import Mojo
import Rules
import Transport

extension Bridge {
    public func sessionDidConnect(_ session: TenantSession, recovered: Bool) {
        if let tenant = session.configuration.tenant, sessions[tenant] === session {
            connectionRestored(tenant: tenant, session: session)
            liveConnected(session, tenant: tenant, recovered: recovered)
        }
        // Mirror presence: who is online now, after every (re)connect.
        session.emit(.presenceGet)
        fireSettled(force: false)
    }

    public func session(_ session: TenantSession, refused failure: ConnectionFailure) {
        log.error("command not sent", [("tenant", session.configuration.tenant ?? ""), ("reason", failure.description)])
    }

    public func session(_ session: TenantSession, didDisconnect failure: ConnectionFailure?, reconnectInMs: Int?) {
        // The session logs its own failures with the reason and the next delay.
        if let tenant = session.configuration.tenant, sessions[tenant] === session {
            connectionLost(tenant: tenant)
            liveDisconnected(session, tenant: tenant)
        }
    }

    /// A MOJO event: route it to the sinks that want it.
    public func session(_ session: TenantSession, event name: String, data: UnsafeRawBufferPointer) {
        guard !stopping, let tenant = session.configuration.tenant else { return }
        countEvent(tenant: tenant, type: name)
        // Routing needs a few string fields: read them straight from the bytes (validating the
        // whole payload, as parsing did). The `JSONValue` tree (`event.data`) is built only for
        // what reads it: templates and non-JSON sinks, and the error events logged below.
        let fields: [String?]
        do { fields = data.isEmpty ? [] : try Self.routingFields.strings(in: data) } catch {
            log.warn("malformed event payload from server; dropped", [("tenant", tenant), ("event", name), ("error", error.description)])
            return
        }
        let id = ids.next(tenant: tenant, type: name, data: data)
        var event = RoutableEvent(tenant: tenant, type: name, fields: fields, direction: .toSink,
                                  selfUserId: session.selfUserId, eventId: id)
        var hasTree = data.isEmpty
        func withTree() -> RoutableEvent {
            if !hasTree { event.data = (try? JSONValue(parsing: data)) ?? .null; hasTree = true }
            return event
        }
        var payload: JSONValue { withTree().data }
        var origin: OriginTracker.Origin?
        switch name {
        case "message:new" where event.senderId != nil && event.senderId == session.selfUserId:
            if let c = event.conversationId, let text = event.content {
                origin = origins.echo(tenant: tenant, conversation: c, content: text)
            }
        case "message:sent":
            let answered = origins.answered(tenant: tenant, conversation: event.conversationId)
            replyAnswered(answered, tenant: tenant)
            if let id = answered?.commandId, let waiter = replyWaiters.removeValue(forKey: id) {
                waiter(.sent(messageId: payload["messageId"]?.stringValue ?? ""))
            }
            fireSettled(force: false)
        case "message:error":
            let answered = origins.answered(tenant: tenant, conversation: event.conversationId)
            replyAnswered(answered, tenant: tenant)
            if let id = answered?.commandId, let waiter = replyWaiters.removeValue(forKey: id) {
                waiter(.refused(error: payload["error"]?.stringValue ?? "refused"))
            }
            log.warn("server refused a message", [("tenant", tenant), ("conversation", event.conversationId ?? ""),
                                                   ("error", payload["error"]?.stringValue ?? ""), ("sink", answered?.sink ?? "")])
            // The sink that sent it hears the error, whatever the routes say.
            if let answered, let runner = sinks[answered.sink] {
                runner.enqueue(envelopeDelivery(event, data: data, route: "", hops: answered.hops))
                if config.sink(named: answered.sink)?.whenFull == .block { checkFull(runner) }
            }
            origin = answered
            fireSettled(force: false)
        case "conversation:error":
            log.warn("conversation error from server", [("tenant", tenant), ("conversation", event.conversationId ?? ""),
                                                         ("error", payload["error"]?.stringValue ?? "")])
        default:
            break
        }
        let hops = origin?.hops ?? 0
        if hops >= maxHops {
            log.info("not relayed: reply chain too long (loop guard)", [("tenant", tenant), ("conversation", event.conversationId ?? ""), ("hops", String(hops))])
            return
        }
        event.sourceSink = origin?.sink
        let table = routeTable ?? buildRouteTable()
        var remembered = false
        config.forEachMatch(event) { index, route in
            for target in table[index] where target.sink != origin?.sink {
                if !remembered {
                    // What a reply naming this event (`inReplyTo`) answers.
                    recent.record(AnsweredEvent(id: id, tenant: tenant, conversationId: event.conversationId, hops: hops))
                    remembered = true
                }
                // A rendered delivery reads `event.data`; an envelope splices `data` unchanged.
                let delivery = target.renders
                    ? renderedDelivery(withTree(), route: route, settings: target.settings, hops: hops)
                    : envelopeDelivery(event, data: data, route: route.name, hops: hops)
                if let runner = target.runner { runner.enqueue(delivery) } else { holdForHandover(target.sink, delivery) }
                target.routed?.increment()
                if target.blocks, let runner = target.runner { checkFull(runner) }
                if log.enabled(.debug) {
                    log.debug("delivered", [("tenant", tenant), ("conversation", event.conversationId ?? ""), ("route", route.name),
                                            ("sink", target.sink), ("event", name), ("id", id)])
                }
            }
        }
    }

    /// The routing fields, read from the payload bytes in one validating pass.
    static let routingFields = JSONStringPaths(RoutableEvent.routingFieldPaths)

    /// One route's running sinks, resolved from the config and the sinks in force.
    struct RouteTarget {
        let sink: String
        /// nil while the sink is handed over to a new runner (reload).
        let runner: SinkRunner?
        let settings: SinkSettings
        /// Whether the sink gets the route's template (or text) rather than the JSON envelope.
        let renders: Bool
        let routed: Counter?
        /// `when_full = block`: a full spool pauses the sessions (Bridge+Backpressure.swift).
        let blocks: Bool
    }

    func buildRouteTable() -> [[RouteTarget]] {
        let table = config.routes.map { route in
            route.sinks.compactMap { name -> RouteTarget? in
                guard let settings = config.sink(named: name) else { return nil }
                let runner = sinks[name]
                guard runner != nil || handover[name] != nil else { return nil }
                return RouteTarget(sink: name, runner: runner, settings: settings,
                                   renders: !settings.receivesEnvelope && (route.template != nil || settings.templateEscaping != .json),
                                   routed: routedCounter(sink: name, route: route.name), blocks: settings.whenFull == .block)
            }
        }
        routeTable = table
        return table
    }

    /// What a JSON sink receives: the envelope with the server's bytes spliced in unchanged.
    func envelopeDelivery(_ event: RoutableEvent, data: UnsafeRawBufferPointer, route: String, hops: Int) -> Delivery {
        var payload: [UInt8] = []
        payload.reserveCapacity(data.count + 160)
        Envelope.encode(id: event.eventId ?? "", type: event.type, timestamp: Timestamp.nowISO8601(), tenant: event.tenant,
                        hops: hops, data: data, into: &payload)
        return Delivery(eventId: event.eventId ?? "", tenant: event.tenant, route: route, type: event.type,
                        conversationId: event.conversationId, payload: payload, hops: hops)
    }

    /// What a sink with a template (or text escaping) receives: the route's template rendered.
    func renderedDelivery(_ event: RoutableEvent, route: Route, settings: SinkSettings, hops: Int) -> Delivery {
        Delivery(eventId: event.eventId ?? "", tenant: event.tenant, route: route.name, type: event.type,
                 conversationId: event.conversationId, payload: Array(route.render(event, for: settings).utf8), hops: hops)
    }
}
