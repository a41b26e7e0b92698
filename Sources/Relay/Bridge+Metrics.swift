import Diagnostics
import Transport

/// The bridge's Prometheus metrics. Counters are bumped where things happen; the state of
/// sessions and spools is read at scrape time.
extension Bridge {
    /// Renders every metric in the Prometheus text format.
    public func renderMetrics() -> String {
        let m = metrics
        // Live state, read now (series of removed tenants and sinks disappear with a reload).
        for (tenant, session) in sessions {
            let l = [("tenant", tenant)]
            try? m.callbackGauge("mojo_bridge_session_connected", help: "1 when the tenant's Socket.IO session is connected", labels: l) {
                session.isConnected ? 1 : 0
            }
            try? m.callbackGauge("mojo_bridge_session_reconnects", help: "Reconnections since start", labels: l) { Double(session.reconnects) }
            try? m.callbackGauge("mojo_bridge_emits_buffered", help: "Commands waiting for a connection", labels: l) { Double(session.bufferedEmits) }
            try? m.callbackGauge("mojo_bridge_session_reading_paused", help: "1 while the session does not read from MOJO (backpressure: a full spool with when_full = block)", labels: l) {
                session.isReadingPaused ? 1 : 0
            }
            try? m.callbackGauge("mojo_bridge_session_backpressure_disconnects", help: "Sessions the server dropped while reading was paused (reconnected with recovery)", labels: l) {
                Double(session.droppedWhilePaused)
            }
        }
        let now = Timestamp.nowUnixMilliseconds()
        for (name, runner) in sinks {
            let l = [("sink", name)]
            let spool = runner.spool
            try? m.callbackGauge("mojo_bridge_spool_pending", help: "Events waiting for delivery", labels: l) { Double(spool.pendingCount) }
            try? m.callbackGauge("mojo_bridge_spool_dead", help: "Dead letters", labels: l) { Double(spool.deadCount) }
            try? m.callbackGauge("mojo_bridge_spool_bytes", help: "Bytes in the spool", labels: l) { Double(spool.bytes) }
            try? m.callbackGauge("mojo_bridge_spool_oldest_age_seconds", help: "Age of the oldest pending event", labels: l) {
                guard let first = spool.orderedSeqs.first(where: { spool.item($0)?.dead == false }),
                      let item = spool.item(first) else { return 0 }
                return Double(now - item.enqueuedAtMs) / 1000
            }
            try? m.callbackGauge("mojo_bridge_sink_disabled", help: "1 when the sink was disabled (HTTP 410)", labels: l) { runner.disabled ? 1 : 0 }
        }
        return m.render()
    }

    func count(_ name: String, _ help: String, _ labels: [(String, String)], by n: Double = 1) {
        (try? metrics.counter(name, help: help, labels: labels))?.increment(by: n)
    }

    /// Counts one event received, through a cache: the hot path builds no strings or label arrays.
    func countEvent(tenant: String, type: String) {
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
    }
}
