import Diagnostics
import Rules
import Transport

/// Reload: the one home of applying a new configuration.
///
/// Every changed key takes effect, restarting exactly the pieces it affects: a sink whose
/// settings changed (any key: `retry`, `queue`, its kind's keys...) or that a 410 disabled is
/// restarted; a tenant whose token, conversations or server changed reconnects; routes switch at
/// once. A restarted sink hands its spool over without overlap: the new runner opens the spool
/// only after the old one has stopped (one writer per directory at every moment); events routed
/// to it meanwhile wait in a bounded hand-over buffer (the sink's `queue`; past it the oldest is
/// dropped and logged at error). The log line lists what changed.
extension Bridge {
    /// Applies `new` (through `configFilter`, the shard's tenants and spool); returns what changed,
    /// one entry each ("sink hooks: retry", ...).
    @discardableResult
    public func reload(_ proposed: BridgeConfig) -> [String] {
        guard !stopping else { return [] }
        let new = configFilter?(proposed) ?? proposed
        let old = config
        config = new
        var changes: [String] = []
        let serverChanged = !Self.sameServer(old.server, new.server)
        if serverChanged { changes.append("server") }

        var sinksRestarted: [String] = []
        for settings in old.sinks {
            guard let replacement = new.sink(named: settings.name) else {
                changes.append("sink \(settings.name): removed")
                handover[settings.name] = nil
                if let runner = sinks.removeValue(forKey: settings.name) { retire(runner, graceMs: 5000) {} }
                continue
            }
            var why = Self.sinkChanges(settings, replacement)
            if let runner = sinks[settings.name], runner.disabled { why.append("re-enabled") }
            if why.isEmpty, handover[settings.name] == nil, sinks[settings.name] == nil, old.sink(named: settings.name) != nil {
                why.append("not running; started again")
            }
            guard !why.isEmpty else { continue }
            changes.append("sink \(settings.name): " + why.joined(separator: ","))
            sinksRestarted.append(settings.name)
            restartSink(named: settings.name)
        }
        for settings in new.sinks where old.sink(named: settings.name) == nil {
            changes.append("sink \(settings.name): added")
            if sinks[settings.name] == nil && handover[settings.name] == nil { startSink(settings) }
        }
        releaseRemovedSinks()

        var tenantsChanged: [String] = []
        for tenant in old.tenants {
            let replacement = new.tenant(id: tenant.id)
            let joinsChanged = old.conversationsToJoin(tenant: tenant.id) != new.conversationsToJoin(tenant: tenant.id)
            if replacement == nil || serverChanged || joinsChanged || !Self.sameTenant(tenant, replacement!) {
                sessions.removeValue(forKey: tenant.id)?.stop()
                tenantsChanged.append(tenant.id)
                changes.append("tenant \(tenant.id): " + (replacement == nil ? "removed" : "reconnected"))
            }
        }
        for tenant in new.tenants where sessions[tenant.id] == nil {
            if old.tenant(id: tenant.id) == nil { changes.append("tenant \(tenant.id): added") }
            startSession(tenant)
        }
        if old.routes != new.routes { changes.append("routes") }
        if old.admin != new.admin { changes.append("admin") }
        if old.spool != new.spool { changes.append("spool (takes effect at restart)") }
        if old.log != new.log { changes.append("log") }
        log.info("configuration reloaded", [("tenants", String(new.tenants.count)), ("sinks", String(new.sinks.count)),
                                             ("routes", String(new.routes.count)),
                                             ("sessions_restarted", tenantsChanged.joined(separator: ",")),
                                             ("sinks_restarted", sinksRestarted.joined(separator: ",")),
                                             ("changed", changes.isEmpty ? "nothing" : changes.joined(separator: "; "))])
        return changes
    }

    /// Stops the running sink `name`, then starts it with the settings in force once it has
    /// stopped; events for it wait in the hand-over buffer meanwhile.
    func restartSink(named name: String) {
        guard handover[name] == nil else { return }   // already on its way: it starts with the newest settings
        guard let runner = sinks.removeValue(forKey: name) else {
            if let settings = config.sink(named: name) { startSink(settings) }
            return
        }
        handover[name] = Handover()
        routeTable = nil
        retire(runner, graceMs: 5000) { [weak self] in
            guard let self, !self.stopping, let waiting = self.handover.removeValue(forKey: name) else { return }
            self.routeTable = nil
            guard let settings = self.config.sink(named: name) else { return }
            if let error = self.startSink(settings, retryWaitingNow: true) {
                if !waiting.deliveries.isEmpty {
                    self.log.error("sink not restarted; events routed to it during the hand-over are lost",
                                   [("sink", name), ("count", String(waiting.deliveries.count)), ("reason", error)])
                }
                return
            }
            for d in waiting.deliveries { self.sinks[name]?.enqueue(d) }
        }
    }

    /// An event for a sink being handed over: kept until its new runner starts (bounded).
    func holdForHandover(_ sink: String, _ delivery: Delivery) {
        guard var h = handover[sink] else { return }
        let limit = config.sink(named: sink)?.queue ?? 1000
        if h.deliveries.count >= limit {
            h.deliveries.removeFirst()
            h.dropped += 1
            if h.dropped == 1 || h.dropped % 1000 == 0 {
                log.error("hand-over buffer full: dropped the oldest event", [("sink", sink), ("limit", String(limit)),
                                                                              ("dropped", String(h.dropped))])
            }
        }
        h.deliveries.append(delivery)
        handover[sink] = h
    }

    /// Events routed to a sink while it restarts.
    struct Handover {
        var deliveries: [Delivery] = []
        var dropped = 0
    }

    static func sameServer(_ a: ServerSettings, _ b: ServerSettings) -> Bool {
        a.url == b.url && a.transport == b.transport && a.caFile == b.caFile && a.connectTimeout == b.connectTimeout
            && a.reconnectMaxDelay == b.reconnectMaxDelay
    }

    static func sameTenant(_ a: TenantSettings, _ b: TenantSettings) -> Bool {
        a.id == b.id && a.token == b.token && a.conversations == b.conversations
    }

    /// The keys that differ between two settings of one sink (its location aside).
    static func sinkChanges(_ a: SinkSettings, _ b: SinkSettings) -> [String] {
        var keys: [String] = []
        if a.kind.name != b.kind.name { keys.append("type") } else if a.kind != b.kind { keys.append(a.kind.name + " settings") }
        if a.queue != b.queue { keys.append("queue") }
        if a.whenFull != b.whenFull { keys.append("when_full") }
        if a.retry != b.retry { keys.append("retry") }
        return keys
    }
}
