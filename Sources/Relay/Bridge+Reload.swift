import Rules

extension Bridge {
    /// Applies a new configuration without dropping sessions that did not change: sinks and
    /// tenants that were removed stop, new ones start, changed ones restart; routes switch at once.
    public func reload(_ proposed: BridgeConfig) {
        guard !stopping else { return }
        let new = configFilter?(proposed) ?? proposed
        let old = config
        config = new
        let serverChanged = !Self.sameServer(old.server, new.server)

        var sinksRestarted: [String] = []
        for settings in old.sinks {
            let replacement = new.sink(named: settings.name)
            if replacement == nil || !Self.sameSink(settings, replacement!) {
                if let sink = sinks.removeValue(forKey: settings.name) {
                    retire(sink, graceMs: 5000) {}
                    sinksRestarted.append(settings.name)
                }
            }
        }
        for settings in new.sinks where sinks[settings.name] == nil {
            startSink(settings)
        }

        var tenantsChanged: [String] = []
        for tenant in old.tenants {
            let replacement = new.tenant(id: tenant.id)
            let joinsChanged = old.conversationsToJoin(tenant: tenant.id) != new.conversationsToJoin(tenant: tenant.id)
            if replacement == nil || serverChanged || joinsChanged || !Self.sameTenant(tenant, replacement!) {
                sessions.removeValue(forKey: tenant.id)?.stop()
                tenantsChanged.append(tenant.id)
            }
        }
        for tenant in new.tenants where sessions[tenant.id] == nil {
            startSession(tenant)
        }
        log.info("configuration reloaded", [("tenants", String(new.tenants.count)), ("sinks", String(new.sinks.count)),
                                             ("routes", String(new.routes.count)),
                                             ("sessions_restarted", tenantsChanged.joined(separator: ",")),
                                             ("sinks_restarted", sinksRestarted.joined(separator: ","))])
    }

    static func sameServer(_ a: ServerSettings, _ b: ServerSettings) -> Bool {
        a.url == b.url && a.transport == b.transport && a.caFile == b.caFile && a.connectTimeout == b.connectTimeout
            && a.reconnectMaxDelay == b.reconnectMaxDelay
    }

    static func sameTenant(_ a: TenantSettings, _ b: TenantSettings) -> Bool {
        a.id == b.id && a.token == b.token && a.conversations == b.conversations
    }

    static func sameSink(_ a: SinkSettings, _ b: SinkSettings) -> Bool {
        a.name == b.name && a.kind == b.kind && a.queue == b.queue && a.whenFull == b.whenFull
    }
}
