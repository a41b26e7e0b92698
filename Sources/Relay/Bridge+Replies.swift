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
                // Synced on the `spool.fsync` schedule like the sinks' spools (a reply reaches the
                // kernel before it is emitted): an fsync per reply held the reply path to the
                // disk's fsync rate (~200 replies/s at 5 ms each).
                let fsync = config.spool.fsync.components
                spool = try SinkSpool(directory: config.spool.directory + "/.replies", sink: tenant, maxBytes: config.spool.maxSize,
                                      syncIntervalMs: Int(fsync.seconds) * 1000 + Int(fsync.attoseconds / 1_000_000_000_000_000),
                                      windowLimit: Self.replyWindow(origins), log: log)
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

    /// The reply spool's window: one more than the origin tracker holds, so every reply waiting
    /// for its answer is loaded (only a loaded reply can leave when answered; a reply past the
    /// tracker's limit is forgotten, and leaves the spool, before it could be pushed out).
    static func replyWindow(_ origins: OriginTracker) -> Int { max(4096, origins.limit + 1) }

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
            // Written (the kernel has it) before it is emitted; fsync'ed on the schedule.
            spool.syncIfDirty(nowMs: Timestamp.nowUnixMilliseconds())
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
        // Replies a restart left on disk behind the window come in as it empties.
        if spool.hasBacklog { _ = spool.refill() }
    }

    /// Replies the origin tracker forgot unanswered (no `message:sent` or `message:error` within
    /// its 120 s, or past its 10,000 entries): their durable copies leave the reply spool, counted
    /// in `mojo_bridge_replies_unanswered_total{tenant}` and logged, so that a server that never
    /// answers cannot fill the spool (and the memory window in front of it) one reply at a time.
    func forgetUnanswered(_ forgotten: [(tenant: String, origin: OriginTracker.Origin)]) {
        guard !forgotten.isEmpty else { return }
        let now = Timestamp.nowUnixMilliseconds()
        var perTenant: [String: Int] = [:]
        for f in forgotten {
            if let id = f.origin.commandId, let spool = replySpools[f.tenant] {
                try? spool.remove(id, nowMs: now)
                if spool.hasBacklog { _ = spool.refill() }
            }
            perTenant[f.tenant, default: 0] += 1
        }
        for (tenant, n) in perTenant {
            count("mojo_bridge_replies_unanswered_total", "Replies forgotten unanswered (no message:sent or message:error within 120 s, or over 10,000 waiting); no longer kept for resending",
                  [("tenant", tenant)], by: Double(n))
            unansweredUnlogged[tenant, default: 0] += n
        }
        // One line per 10 s at most: under a flood of replies this happens in runs.
        if let at = unansweredLoggedAt, timers.now.nanoseconds &- at.nanoseconds < 10_000_000_000 { return }
        unansweredLoggedAt = timers.now
        for (tenant, n) in unansweredUnlogged.sorted(by: { $0.key < $1.key }) {
            log.warn("replies not answered by the server (within 120 s, or over 10,000 waiting): no longer kept for resending",
                     [("tenant", tenant), ("count", String(n))])
        }
        unansweredUnlogged.removeAll()
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
                forgetUnanswered(origins.record(tenant: tenant, conversation: c, content: content,
                                                origin: .init(sink: d.route, hops: d.hops, commandId: id), now: timers.now))
            }
            session.emit(inbound.command)
            resent += 1
        }
        return resent
    }

    /// `bytes` random bytes in hex: one `getrandom(2)` per 8 bytes (it was one per digit, 32 per
    /// reply, a sixth of the reply path's CPU).
    func randomHex(_ bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes * 2)
        var word: UInt64 = 0
        for i in 0..<bytes {
            if i % 8 == 0 { word = rng.next() }
            let b = UInt8(truncatingIfNeeded: word >> UInt64(8 * (i % 8)))
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
