import Diagnostics

/// Progress lines while a sink's backlog drains: when more than ``backlogThreshold`` events are
/// pending, one `backlog` info line at once and then at most every 10 s (remaining, rate over the
/// last 10 s, ETA); while nothing moves (rate 0) the interval doubles up to 10 minutes. One
/// `backlog drained` line when at most ``backlogDrainedAt`` remain.
extension Bridge {
    /// Pending events above which a sink's backlog is reported.
    static let backlogThreshold = 100
    /// Pending events at or below which a reported backlog counts as drained (hysteresis).
    static let backlogDrainedAt = 10
    static let progressIntervalMs: Int64 = 10_000
    static let stalledIntervalMaxMs: Int64 = 600_000

    func backlogProgress(_ name: String, runner: SinkRunner, entry: SinkLive, nowMs now: Int64) {
        let pending = runner.spool.pendingCount
        guard var backlog = entry.backlog else {
            guard pending > Self.backlogThreshold else { return }
            entry.backlog = (now, runner.delivered, pending, now, Self.progressIntervalMs)
            logBacklog(name, pending: pending, rate: entry.rate(delivered: runner.delivered, nowMs: now))
            return
        }
        backlog.peak = max(backlog.peak, pending)
        if pending <= Self.backlogDrainedAt {
            log.info("backlog drained", [("sink", name), ("delivered", String(runner.delivered - backlog.startDelivered)),
                                         ("peak", String(backlog.peak)), ("pending", String(pending)),
                                         ("took_s", String((now - backlog.startMs + 500) / 1000))])
            entry.backlog = nil
            return
        }
        if now - backlog.lastLogMs >= backlog.intervalMs {
            let rate = entry.rate(delivered: runner.delivered, nowMs: now)
            logBacklog(name, pending: pending, rate: rate)
            backlog.lastLogMs = now
            backlog.intervalMs = rate > 0 ? Self.progressIntervalMs : min(backlog.intervalMs * 2, Self.stalledIntervalMaxMs)
        }
        entry.backlog = backlog
    }

    private func logBacklog(_ name: String, pending: Int, rate: Double) {
        let eta = rate > 0 ? String(Int((Double(pending) / rate).rounded(.up))) : "unknown"
        log.info("backlog", [("sink", name), ("pending", String(pending)), ("rate_per_s", String((rate * 10).rounded() / 10)),
                             ("eta_s", eta)])
    }
}
