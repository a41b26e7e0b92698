import Diagnostics
import Transport

/// The bridge's Prometheus metrics. Counters are bumped where things happen; the state of
/// sessions and spools is read at scrape time. Names follow the Prometheus conventions: counters
/// end in `_total`, units are in the name (`_seconds`, `_bytes`), and every series a tenant,
/// sink or route can have is present (at 0) from the start.
extension Bridge {
    /// Event names the relay counts per tenant, registered at 0 up front.
    static let countedEventTypes = ["message:new", "message:sent", "message:error", "messages:read", "typing:update",
                                    "presence:online", "presence:offline", "presence:list",
                                    "conversation:joined", "conversation:left", "conversation:error"]

    /// Renders every metric in the Prometheus text format.
    public func renderMetrics() -> String {
        let m = metrics
        // Live state, read now (series of removed tenants and sinks disappear with a reload).
        for (tenant, session) in sessions {
            let l = [("tenant", tenant)]
            try? m.callbackGauge("mojo_bridge_session_connected", help: "1 when the tenant's Socket.IO session is connected", labels: l) {
                session.isConnected ? 1 : 0
            }
            try? m.callbackCounter("mojo_bridge_session_reconnects_total", help: "Reconnections since start", labels: l) { Double(session.reconnects) }
            for type in Self.countedEventTypes {
                _ = try? m.counter("mojo_bridge_events_received_total", help: "Events received from MOJO", labels: [("tenant", tenant), ("type", type)])
            }
            _ = try? m.counter("mojo_bridge_session_gaps_total", help: Self.gapsHelp, labels: l)
            try? m.callbackGauge("mojo_bridge_emits_buffered", help: "Commands waiting for a connection", labels: l) { Double(session.bufferedEmits) }
            try? m.callbackGauge("mojo_bridge_session_reading_paused", help: "1 while the session does not read from MOJO (backpressure: a full spool with when_full = block)", labels: l) {
                session.isReadingPaused ? 1 : 0
            }
            try? m.callbackGauge("mojo_bridge_session_backpressure_disconnects", help: "Sessions the server dropped while reading was paused (reconnected with recovery)", labels: l) {
                Double(session.droppedWhilePaused)
            }
            try? m.callbackGauge("mojo_bridge_replies_pending", help: "Replies sent to MOJO and not answered yet (message:sent or message:error), kept in the reply spool",
                                 labels: l) { [weak self] in Double(self?.replySpools[tenant]?.pendingCount ?? 0) }
        }
        let now = Timestamp.nowUnixMilliseconds()
        for (name, runner) in sinks {
            let l = [("sink", name)]
            let spool = runner.spool
            try? m.callbackGauge("mojo_bridge_spool_pending", help: "Events waiting for delivery", labels: l) { Double(spool.pendingCount) }
            try? m.callbackGauge("mojo_bridge_spool_dead", help: "Dead letters", labels: l) { Double(spool.deadCount) }
            try? m.callbackGauge("mojo_bridge_spool_bytes", help: "Bytes in the spool", labels: l) { Double(spool.bytes) }
            try? m.callbackGauge("mojo_bridge_spool_oldest_age_seconds", help: "Age of the oldest pending event", labels: l) {
                guard let first = spool.orderedSeqs.first(where: { spool.item($0) != nil }), let item = spool.item(first) else { return 0 }
                return Double(now - item.enqueuedAtMs) / 1000
            }
            try? m.callbackGauge("mojo_bridge_spool_full", help: "1 while the spool refuses new events (over max_size, or writes failing)",
                                 labels: l) { spool.isFull ? 1 : 0 }
            try? m.callbackGauge("mojo_bridge_sink_disabled", help: "1 when the sink was disabled (HTTP 410)", labels: l) { runner.disabled ? 1 : 0 }
            if let pipe = runner.sink as? PipeSink {
                try? m.callbackGauge("mojo_bridge_sink_children_crash_looping", help: "Pipe children restarting with backoff after dying young",
                                     labels: l) { Double(pipe.crashLoopingChildren) }
            }
            _ = try? m.counter("mojo_bridge_commands_dropped_total", help: "Commands from sinks not sent", labels: l)
        }
        for route in config.routes where route.flow != .from_sink {
            for sink in route.sinks where sinks[sink] != nil { _ = routedCounter(sink: sink, route: route.name) }
        }
        return m.render()
    }

    /// Records a reload attempt (SIGHUP or `POST /v1/reload`): `mojo_bridge_config_last_reload_success`
    /// (1/0), `mojo_bridge_config_last_reload_timestamp_seconds` and
    /// `mojo_bridge_config_reloads_total{result}`. The initial load counts as a successful one.
    public func recordReload(success: Bool) {
        (try? metrics.gauge("mojo_bridge_config_last_reload_success", help: "1 when the last configuration (re)load was applied, 0 when refused"))?
            .set(success ? 1 : 0)
        (try? metrics.gauge("mojo_bridge_config_last_reload_timestamp_seconds", help: "Unix time of the last configuration (re)load attempt"))?
            .set(Double(Timestamp.nowUnixMilliseconds()) / 1000)
        for result in ["success", "failure"] {
            let c = try? metrics.counter("mojo_bridge_config_reloads_total", help: "Configuration reloads attempted, by result",
                                         labels: [("result", result)])
            if (result == "success") == success, initialLoadRecorded { c?.increment() }
        }
        initialLoadRecorded = true
    }

    /// Why sinks are not well (for /readyz): crash-looping children, disabled sinks, sinks that
    /// did not start.
    public var sinkProblems: [String] {
        var reasons: [String] = []
        for (name, runner) in sinks.sorted(by: { $0.key < $1.key }) {
            if runner.disabled { reasons.append("sink \(name) disabled (HTTP 410); reload to enable it") }
            if let pipe = runner.sink as? PipeSink, pipe.crashLoopingChildren > 0 {
                reasons.append("sink \(name): \(pipe.crashLoopingChildren) child(ren) crash-looping, restarting with backoff")
            }
        }
        for s in config.sinks where sinks[s.name] == nil && handover[s.name] == nil {
            reasons.append("sink \(s.name) not running")
        }
        return reasons
    }

    func count(_ name: String, _ help: String, _ labels: [(String, String)], by n: Double = 1) {
        (try? metrics.counter(name, help: help, labels: labels))?.increment(by: n)
    }

    /// Counts one event received, through a cache: the hot path builds no strings or label arrays.
    func countEvent(tenant: String, type: String) {
        guard !type.hasPrefix("bridge:") else { return }   // made by the daemon (`bridge:gap`), not received
        if let c = eventCounters[tenant]?[type] { return c.increment() }
        guard let c = try? metrics.counter("mojo_bridge_events_received_total", help: "Events received from MOJO",
                                           labels: [("tenant", tenant), ("type", type)]) else { return }
        if eventCounters[tenant, default: [:]].count < 100 { eventCounters[tenant, default: [:]][type] = c }
        c.increment()
    }

    /// The counter of events a route hands to a sink.
    func routedCounter(sink: String, route: String) -> Counter? {
        try? metrics.counter("mojo_bridge_events_routed_total", help: "Events handed to a sink", labels: [("sink", sink), ("route", route)])
    }

    /// Hooks a runner's outcomes into the counters and the latency histogram (the series are
    /// looked up once here, not per delivery).
    func instrument(_ runner: SinkRunner) {
        let name = runner.name
        let histogram = try? metrics.histogram("mojo_bridge_delivery_latency_seconds",
                                               help: "From spooling an event to its acceptance by the sink", labels: [("sink", name)])
        func outcomes(_ label: String) -> Counter? {
            try? metrics.counter("mojo_bridge_deliveries_total", help: "Delivery attempts by outcome",
                                 labels: [("sink", name), ("outcome", label)])
        }
        let delivered = outcomes("delivered"), retry = outcomes("retry"), dead = outcomes("dead"), disabled = outcomes("disabled")
        let writeErrors = try? metrics.counter("mojo_bridge_spool_write_errors_total", help: "Spool writes that failed (a full disk, ...)",
                                               labels: [("sink", name)])
        runner.spool.onWriteError = { writeErrors?.increment() }
        if let pipe = runner.sink as? PipeSink {
            let restarts = try? metrics.counter("mojo_bridge_sink_child_restarts_total",
                                                help: "Pipe children restarted (exits, failed starts, stalls)", labels: [("sink", name)])
            pipe.onChildRestart = { restarts?.increment() }
        }
        let refused = try? metrics.counter("mojo_bridge_spool_refused_total", help: "Events refused because the sink's spool was full",
                                           labels: [("sink", name)])
        let dropped = try? metrics.counter("mojo_bridge_spool_dropped_total", help: "Oldest events dropped to make room (when_full = drop_oldest)",
                                           labels: [("sink", name)])
        let before = runner.onRefused
        runner.onRefused = { before?(); refused?.increment() }
        let beforeDrop = runner.onDropped
        runner.onDropped = { beforeDrop?(); dropped?.increment() }
        runner.onOutcome = { outcome, latencyMs in
            switch outcome {
            case .delivered:
                delivered?.increment()
                if let latencyMs { histogram?.observe(Double(latencyMs) / 1000) }
            case .retry: retry?.increment()
            case .failed: dead?.increment()
            case .disabled: disabled?.increment()
            }
        }
        observeLive(runner)
    }

    /// The sinks whose spool refuses new events now, with why (readiness).
    func spoolsFull() -> [(String, String)] {
        sinks.sorted { $0.key < $1.key }.compactMap { name, runner in
            let spool = runner.spool
            guard spool.isFull else { return nil }
            return (name, spool.writeFailing ? "writes failing: \(spool.lastWriteError)" : "over max_size \(spool.maxBytes) bytes")
        }
    }
}
