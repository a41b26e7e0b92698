import Diagnostics
import JSON
import Mojo
import Rules
import Transport

/// Replies to MOJO are durable too: a `message:send` from a sink is spooled (per tenant, in
/// `<spool dir>/.replies/<tenant>`) before it is emitted, and leaves the spool only when the server
/// answers `message:sent` (or `message:error`, which is final). After a crash or restart the
/// unanswered ones are sent again (at least once).
extension Bridge {
    func replySpool(for tenant: String) -> SinkSpool? {
        if let s = replySpools[tenant] { return s }
        let spool: SinkSpool
        if durable {
            do throws(IOError) {
                spool = try SinkSpool(directory: config.spool.directory + "/.replies", sink: tenant, maxBytes: config.spool.maxSize,
                                      syncIntervalMs: 0, log: log)
            } catch {
                log.error("cannot open the reply spool; replies are not durable", [("tenant", tenant), ("error", error.description)])
                return nil
            }
        } else {
            spool = SinkSpool(memoryFor: tenant, maxBytes: config.spool.maxSize, log: log)
        }
        replySpools[tenant] = spool
        return spool
    }

    /// Spools a reply before it is emitted; returns its spool id.
    func spoolReply(_ command: MojoCommand, id: String?, tenant: String, sink: String, hops: Int) -> String? {
        guard let spool = replySpool(for: tenant) else { return nil }
        var payload: [UInt8] = []
        JSONValue.object(JSONObject([("type", .string(command.eventName)), ("data", command.arguments.first ?? .null)])).serialize(into: &payload)
        let replyID = id ?? "cmd_" + randomHex(16)
        let d = Delivery(eventId: replyID, tenant: tenant, route: sink, type: command.eventName, conversationId: command.conversationId,
                         payload: payload, hops: hops)
        do {
            guard try spool.enqueue(d, nowMs: Timestamp.nowUnixMilliseconds()) else {
                log.error("reply spool full; reply sent without a durable copy", [("tenant", tenant), ("sink", sink)])
                return nil
            }
            // On disk before it is emitted.
            spool.syncIfDirty(nowMs: Timestamp.nowUnixMilliseconds(), force: true)
        } catch {
            log.error("reply spool write failed", [("tenant", tenant), ("error", error.description)])
            return nil
        }
        return replyID
    }

    /// The server's answer to a reply (`message:sent`, `message:error`): the reply leaves the
    /// spool, a caller waiting for it hears the answer, and an error goes back to the sink that
    /// sent it whatever the routes say. Returns the origin of a refused reply (its hops bound
    /// what the error event may trigger), nil for a sent one.
    func serverAnswered(_ name: String, _ event: RoutableEvent, data: UnsafeRawBufferPointer,
                        payload: () -> JSONValue) -> OriginTracker.Origin? {
        let tenant = event.tenant
        let answered = origins.answered(tenant: tenant, conversation: event.conversationId)
        replyAnswered(answered, tenant: tenant)
        defer { fireSettled(force: false) }
        guard name == "message:error" else {
            if let id = answered?.commandId, let waiter = replyWaiters.removeValue(forKey: id) {
                waiter(.sent(messageId: payload()["messageId"]?.stringValue ?? ""))
            }
            return nil
        }
        if let id = answered?.commandId, let waiter = replyWaiters.removeValue(forKey: id) {
            waiter(.refused(error: payload()["error"]?.stringValue ?? "refused"))
        }
        log.warn("server refused a message", [("tenant", tenant), ("conversation", event.conversationId ?? ""),
                                               ("error", payload()["error"]?.stringValue ?? ""), ("sink", answered?.sink ?? "")])
        if let answered, let runner = sinks[answered.sink] {
            runner.enqueue(envelopeDelivery(event, data: data, route: "", hops: answered.hops))
            if config.sink(named: answered.sink)?.whenFull == .block { checkFull(runner) }
        }
        return answered
    }

    /// The server answered a reply: it leaves the spool.
    func replyAnswered(_ origin: OriginTracker.Origin?, tenant: String) {
        guard let id = origin?.commandId, let spool = replySpools[tenant] else { return }
        try? spool.remove(id, nowMs: Timestamp.nowUnixMilliseconds())
    }

    /// Sends again every reply a previous run left unanswered (before any new one).
    func resendSpooledReplies(tenant: String, session: TenantSession) {
        guard let spool = replySpool(for: tenant) else { return }
        let resent = resend(spool.orderedIDs, tenant: tenant, session: session)
        if resent > 0 { log.info("unanswered replies of a previous run sent again", [("tenant", tenant), ("count", String(resent))]) }
    }

    /// The connection dropped: the replies written to it and not answered may be lost with it.
    /// Remembered once per connection (a failed attempt to reconnect changes nothing: replies
    /// sent meanwhile wait in the session's buffer and are flushed by it).
    func connectionLost(tenant: String) {
        guard connectedTenants.remove(tenant) != nil, let spool = replySpools[tenant] else { return }
        let ids = spool.orderedIDs
        if !ids.isEmpty { unansweredAtDisconnect[tenant] = ids }
    }

    /// Connected again: the replies unanswered when the previous connection dropped are sent
    /// again, once (those answered meanwhile have left the spool).
    func connectionRestored(tenant: String, session: TenantSession) {
        connectedTenants.insert(tenant)
        guard let ids = unansweredAtDisconnect.removeValue(forKey: tenant) else { return }
        let resent = resend(ids, tenant: tenant, session: session)
        if resent > 0 { log.info("unanswered replies sent again after reconnecting", [("tenant", tenant), ("count", String(resent))]) }
    }

    /// Emits the spooled replies `ids` still in the spool; returns how many.
    private func resend(_ ids: [String], tenant: String, session: TenantSession) -> Int {
        guard let spool = replySpools[tenant] ?? replySpool(for: tenant) else { return 0 }
        var resent = 0
        for id in ids {
            // Answered meanwhile: gone from the spool.
            guard let d = try? spool.delivery(id) else { continue }
            guard let inbound = try? Envelope.parseCommand(d.payload, defaultConversation: nil, plainText: false) else {
                try? spool.remove(id, nowMs: Timestamp.nowUnixMilliseconds())
                continue
            }
            if case .send(let c, let content, _, _) = inbound.command, !origins.isPending(commandId: id) {
                origins.record(tenant: tenant, conversation: c, content: content,
                               origin: .init(sink: d.route, hops: d.hops, commandId: id), now: timers.now)
            }
            session.emit(inbound.command)
            resent += 1
        }
        return resent
    }

    func randomHex(_ bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        return String((0..<(bytes * 2)).map { _ in hex[Int(rng.next() % 16)] })
    }
}
