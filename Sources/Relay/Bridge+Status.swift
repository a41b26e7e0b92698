import Diagnostics
import JSON
import Mojo
import Rules

/// The live view: `GET /v1/status` on the admin API and what `mojo-bridge status` shows. Hooks:
/// ``observeLive(_:)`` when a sink starts, ``liveConnected(_:tenant:recovered:)`` and
/// ``liveDisconnected(_:tenant:)`` from the session callbacks, ``liveTick()`` every second.
extension Bridge {
    /// Records the last failure and the child restarts of `runner` (chained after the metrics hooks).
    func observeLive(_ runner: SinkRunner) {
        let entry = live.sink(runner.name)
        let before = runner.onOutcome
        runner.onOutcome = { outcome, latencyMs in
            before?(outcome, latencyMs)
            switch outcome {
            case .delivered: break
            case .retry(let reason, _), .failed(let reason), .disabled(let reason):
                entry.lastError = reason
                entry.lastErrorAtMs = Timestamp.nowUnixMilliseconds()
            }
        }
        if let pipe = runner.sink as? PipeSink {
            let beforeRestart = pipe.onChildRestart
            pipe.onChildRestart = { beforeRestart?(); entry.childRestarts += 1 }
        }
    }

    /// A session joined: a reconnect of the same session that was not recovered is a gap
    /// (Bridge+Gap.swift).
    func liveConnected(_ session: TenantSession, tenant: String, recovered: Bool) {
        let t = live.tenant(tenant)
        let now = Timestamp.nowUnixMilliseconds()
        let id = ObjectIdentifier(session)
        if t.session == id, let from = t.disconnectedAtMs {
            t.lastReconnectRecovered = recovered
            if !recovered {
                t.gaps += 1
                t.lastGap = (from, now)
                announceGap(session, tenant: tenant, fromMs: from, toMs: now)
            }
        }
        t.session = id
        t.connected = true
        t.sinceMs = now
        t.disconnectedAtMs = nil
    }

    /// A session lost its connection (every failed attempt calls this; the first one counts).
    func liveDisconnected(_ session: TenantSession, tenant: String) {
        let t = live.tenant(tenant)
        guard t.session == ObjectIdentifier(session), t.connected else { return }
        let now = Timestamp.nowUnixMilliseconds()
        t.connected = false
        t.disconnectedAtMs = now
        t.sinceMs = now
    }

    /// Every second: rate samples, backlog progress lines, entries of removed tenants and sinks dropped.
    func liveTick() {
        let now = Timestamp.nowUnixMilliseconds()
        for (name, runner) in sinks {
            let entry = live.sink(name)
            let id = ObjectIdentifier(runner)
            if entry.runner != id {
                // A (re)started runner counts deliveries from 0.
                entry.runner = id
                entry.samples.removeAll()
                entry.backlog = nil
            }
            entry.sample(runner.delivered, nowMs: now)
            backlogProgress(name, runner: runner, entry: entry, nowMs: now)
        }
        if live.sinks.count > config.sinks.count {
            live.sinks = live.sinks.filter { config.sink(named: $0.key) != nil }
        }
        if live.tenants.count > sessions.count {
            live.tenants = live.tenants.filter { sessions[$0.key] != nil }
        }
    }

    /// `GET /v1/status`: what the daemon is doing now. No secrets: tenant and sink names, counts,
    /// states and the last failure reasons (URLs in them are already redacted).
    public func statusJSON() -> JSONValue {
        let now = Timestamp.nowUnixMilliseconds()
        var tenants: [JSONValue] = []
        for tenant in config.tenants {
            guard let session = sessions[tenant.id] else {
                tenants.append(["tenant": .string(tenant.id), "state": "not started"])
                continue
            }
            let t = live.tenants[tenant.id]
            var o: JSONObject = ["tenant": .string(tenant.id)]
            let state: String
            if session.isConnected {
                state = session.isReadingPaused ? "connected, reading paused" : "connected"
            } else {
                state = t?.disconnectedAtMs != nil ? "reconnecting" : "connecting"
            }
            o["state"] = .string(state)
            o["transport"] = session.transportName.map { .string($0) } ?? .null
            o["since"] = t?.sinceMs.map { .string(Self.iso(ms: $0)) } ?? .null
            o["sinceSeconds"] = t?.sinceMs.map { JSONValue(Double(now - $0) / 1000) } ?? .null
            o["reconnects"] = JSONValue(session.reconnects)
            o["lastReconnectRecovered"] = t?.lastReconnectRecovered.map { .bool($0) } ?? .null
            o["gaps"] = JSONValue(t?.gaps ?? 0)
            if let gap = t?.lastGap {
                o["lastGap"] = ["disconnectedAt": .string(Self.iso(ms: gap.fromMs)), "reconnectedAt": .string(Self.iso(ms: gap.toMs))]
            }
            o["failedAttempts"] = JSONValue(session.failedAttempts)
            o["lastFailure"] = session.isConnected ? .null : session.lastFailure.map { .string($0.description) } ?? .null
            o["emitsBuffered"] = JSONValue(session.bufferedEmits)
            tenants.append(.object(o))
        }
        var sinkList: [JSONValue] = []
        var spoolBytes = 0
        for settings in config.sinks {
            var o: JSONObject = ["sink": .string(settings.name), "kind": .string(settings.kind.name)]
            guard let runner = sinks[settings.name] else {
                o["state"] = handover[settings.name] != nil ? "restarting" : "not running"
                sinkList.append(.object(o))
                continue
            }
            let spool = runner.spool
            let entry = live.sinks[settings.name]
            spoolBytes += spool.bytes
            o["state"] = .string(runner.disabled ? "disabled" : spool.isFull ? "spool full" : "running")
            o["pending"] = JSONValue(spool.pendingCount)
            o["inFlight"] = JSONValue(runner.inFlightCount)
            o["dead"] = JSONValue(spool.deadCount)
            o["delivered"] = JSONValue(runner.delivered)
            o["ratePerSecond"] = JSONValue(((entry?.rate(delivered: runner.delivered, nowMs: now) ?? 0) * 10).rounded() / 10)
            o["lastError"] = entry?.lastError.map { .string($0) } ?? .null
            o["lastErrorAt"] = entry?.lastErrorAtMs.map { .string(Self.iso(ms: $0)) } ?? .null
            o["lastErrorAgeSeconds"] = entry?.lastErrorAtMs.map { JSONValue(Double(now - $0) / 1000) } ?? .null
            if runner.sink is PipeSink {
                o["childRestarts"] = JSONValue(entry?.childRestarts ?? 0)
            }
            o["spoolBytes"] = JSONValue(spool.bytes)
            sinkList.append(.object(o))
        }
        let uptime = Double(now - live.startedAtMs) / 1000
        return [
            "version": .string(live.version),
            "startedAt": .string(Self.iso(ms: live.startedAtMs)),
            "uptimeSeconds": JSONValue((uptime * 10).rounded() / 10),
            "now": .string(Self.iso(ms: now)),
            "tenants": .array(tenants),
            "sinks": .array(sinkList),
            "spool": ["dir": durable ? .string(config.spool.directory) : .null, "bytes": JSONValue(spoolBytes),
                      "durable": .bool(durable)],
        ]
    }

    static func iso(ms: Int64) -> String {
        Timestamp.iso8601(seconds: Int(ms / 1000), milliseconds: Int(ms % 1000))
    }
}
