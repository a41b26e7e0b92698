import Diagnostics
import Rules
import Transport

/// In front of each sink: the durable queue (`SinkSpool`), order per conversation, the retry
/// schedule with jitter, dead letters, and the when-full policy.
final class SinkRunner {
    let name: String
    let sink: Sink
    let spool: SinkSpool
    private let loop: EventLoop
    private let log: Logger
    private let schedule: [Int]
    private let whenFull: SinkSettings.WhenFull
    private let nowMs: () -> Int64
    private var inFlight: Set<String> = []
    private var busyConversations: [String: Int] = [:]
    private var timer: (id: TimerID, at: Int64)?
    private var pumpScheduled = false
    private var random = SystemRandomNumberGenerator()
    private(set) var disabled = false
    private var stopping = false
    /// Counters for metrics.
    private(set) var delivered = 0, retried = 0, deadLettered = 0, refused = 0
    /// Every attempt's outcome, with the latency from spooling to acceptance for deliveries (metrics).
    var onOutcome: ((_ outcome: DeliveryOutcome, _ latencyMs: Int64?) -> Void)?
    /// An event refused because the spool was full (metrics).
    var onRefused: (() -> Void)?

    init(settings: SinkSettings, sink: Sink, spool: SinkSpool, loop: EventLoop, log: Logger, nowMs: @escaping () -> Int64) {
        self.name = settings.name
        self.sink = sink
        self.spool = spool
        self.loop = loop
        self.log = log.with("sink", settings.name)
        self.schedule = settings.retry.map { Int($0.components.seconds) * 1000 + Int($0.components.attoseconds / 1_000_000_000_000_000) }
        self.whenFull = settings.whenFull
        self.nowMs = nowMs
        if spool.pendingCount > 0 { schedulePump() }
    }

    /// Spools one event and starts delivering it when its turn comes.
    func enqueue(_ d: Delivery) {
        guard !stopping else { return }
        do {
            if try spool.enqueue(d, nowMs: nowMs()) { return schedulePump() }
            if whenFull == .drop_oldest, let oldest = spool.orderedIDs.first(where: { !inFlight.contains($0) }) {
                try spool.remove(oldest, nowMs: nowMs())
                refused += 1
                log.warn("spool full: dropped the oldest event", [("dropped_id", oldest), ("spool_bytes", String(spool.bytes))])
                if try spool.enqueue(d, nowMs: nowMs()) { return schedulePump() }
            }
            refused += 1
            onRefused?()
            if refused == 1 || refused % 1000 == 0 {
                log.error("spool full: event refused", [("id", d.eventId), ("refused_total", String(refused)), ("max_bytes", String(spool.maxBytes))])
            }
        } catch {
            refused += 1
            log.error("spool write failed: event not accepted", [("id", d.eventId), ("error", error.description)])
        }
    }

    /// Runs `pump` once at the end of this loop turn, however many events arrive in it.
    private func schedulePump() {
        guard !pumpScheduled else { return }
        pumpScheduled = true
        loop.schedule(afterMilliseconds: 0) { [weak self] in
            self?.pumpScheduled = false
            self?.pump()
        }
    }

    /// Starts every delivery that may start now, in spool order, keeping each conversation's order.
    func pump() {
        guard !disabled, !stopping else { return }
        let now = nowMs()
        spool.syncIfDirty(nowMs: now)
        var waiting: Set<String> = []
        var nextDue: Int64?
        for id in spool.orderedIDs {
            if inFlight.count >= sink.capacity { break }
            guard let item = spool.items[id], !item.dead, !inFlight.contains(id) else { continue }
            let key = item.tenant + "\u{0}" + item.conversation
            if waiting.contains(key) { continue }
            if item.nextAtMs > now {
                nextDue = min(nextDue ?? item.nextAtMs, item.nextAtMs)
                waiting.insert(key)   // later events of this conversation wait behind it
                continue
            }
            if !sink.pipelinesConversations && busyConversations[key, default: 0] > 0 {
                waiting.insert(key)
                continue
            }
            let delivery: Delivery
            do {
                guard let d = try spool.delivery(id) else { continue }
                delivery = d
            } catch {
                log.error("spool read failed; event dead-lettered", [("id", id), ("error", error.description)])
                try? spool.deadLetter(id, reason: "spool read failed: \(error.description)", nowMs: now)
                continue
            }
            inFlight.insert(id)
            busyConversations[key, default: 0] += 1
            let enqueued = item.enqueuedAtMs
            sink.deliver(delivery) { [weak self] outcome in self?.finished(id, key: key, enqueuedAtMs: enqueued, outcome) }
        }
        if let nextDue { arm(at: nextDue) }
    }

    private func finished(_ id: String, key: String, enqueuedAtMs: Int64, _ outcome: DeliveryOutcome) {
        inFlight.remove(id)
        busyConversations[key, default: 1] -= 1
        if busyConversations[key] == 0 { busyConversations.removeValue(forKey: key) }
        let now = nowMs()
        do {
            switch outcome {
            case .delivered:
                try spool.remove(id, nowMs: now)
                delivered += 1
                onOutcome?(outcome, now - enqueuedAtMs)
            case .retry(let reason, let afterMs):
                let attempts = (spool.items[id]?.attempts ?? 0) + 1
                if Int(attempts) >= schedule.count {
                    try spool.deadLetter(id, reason: reason, nowMs: now)
                    deadLettered += 1
                    log.error("delivery failed for good; dead-lettered", [("id", id), ("attempts", String(attempts)), ("reason", reason)])
                } else {
                    let base = schedule[Int(attempts)]
                    // ±10% jitter spreads retries of many events (no herd against a recovering receiver).
                    let jitter = base > 0 ? Int.random(in: -(base / 10)...(base / 10), using: &random) : 0
                    let delay = max(base + jitter, afterMs ?? 0)
                    try spool.scheduleRetry(id, attempts: attempts, nextAtMs: now + Int64(delay), reason: reason, nowMs: now)
                    retried += 1
                    log.warn("delivery failed; will retry", [("id", id), ("attempt", String(attempts)), ("retry_in_ms", String(delay)), ("reason", reason)])
                }
            case .failed(let reason):
                try spool.deadLetter(id, reason: reason, nowMs: now)
                deadLettered += 1
                log.error("delivery refused; dead-lettered", [("id", id), ("reason", reason)])
            case .disabled(let reason):
                disabled = true
                log.error("sink disabled: the receiver is gone; events stay spooled until the config is reloaded", [("reason", reason)])
            }
        } catch {
            log.error("spool write failed", [("id", id), ("error", error.description)])
        }
        if outcome != .delivered { onOutcome?(outcome, nil) }
        pump()
    }

    private func arm(at: Int64) {
        if let t = timer, t.at <= at { return }
        if let t = timer { loop.cancel(t.id) }
        let delay = Int(max(0, at - nowMs()))
        timer = (loop.schedule(afterMilliseconds: delay) { [weak self] in
            self?.timer = nil
            self?.pump()
        }, at)
    }

    /// Stops delivering; what is in flight or queued stays spooled.
    func stop(graceMs: Int, _ done: @escaping () -> Void) {
        stopping = true
        if let t = timer { loop.cancel(t.id) }
        spool.syncIfDirty(nowMs: nowMs())
        sink.stop(graceMs: graceMs) { [self] in
            spool.syncIfDirty(nowMs: nowMs())
            done()
        }
    }
}
