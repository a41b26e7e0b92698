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
    /// One conversation's live events in spool order: the first `started` after `head` are in
    /// flight. A lane is in `ready` when it may start its next event now.
    private struct Lane {
        var ids: [String] = []
        var head = 0
        var started = 0
        var queued = false
        var next: String? { head + started < ids.count ? ids[head + started] : nil }
        var isEmpty: Bool { head >= ids.count }
    }
    private var lanes: [String: Lane] = [:]
    private var ready: [String] = []
    private var readyHead = 0
    private var inFlightCount = 0
    private var retryTimers: [String: TimerID] = [:]
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
        for id in spool.orderedIDs {
            guard let item = spool.items[id], !item.dead else { continue }
            lanes[Self.key(item), default: Lane()].ids.append(id)
        }
        for key in lanes.keys { markReady(key) }
        if !ready.isEmpty || !retryTimers.isEmpty { schedulePump() }
    }

    private static func key(_ item: SinkSpool.Item) -> String { item.tenant + "\u{0}" + item.conversation }

    /// Queues the lane if it may start its next event now, or arms its retry timer.
    private func markReady(_ key: String) {
        guard let lane = lanes[key], !lane.queued, let id = lane.next, let item = spool.items[id] else { return }
        if !sink.pipelinesConversations && lane.started > 0 { return }
        let now = nowMs()
        if item.nextAtMs > now {
            // Later events of this conversation wait behind the one being retried.
            guard retryTimers[key] == nil else { return }
            retryTimers[key] = loop.schedule(afterMilliseconds: Int(item.nextAtMs - now)) { [weak self] in
                self?.retryTimers[key] = nil
                self?.markReady(key)
                self?.pump()
            }
            return
        }
        lanes[key]?.queued = true
        ready.append(key)
    }

    private func removeFromLane(_ id: String, key: String) {
        guard var lane = lanes[key] else { return }
        if lane.head < lane.ids.count, lane.ids[lane.head] == id {
            lane.head += 1
        } else if let i = lane.ids[lane.head...].firstIndex(of: id) {
            lane.ids.remove(at: i)
        }
        if lane.isEmpty && lane.started == 0 && !lane.queued {
            lanes.removeValue(forKey: key)
            return
        }
        if lane.head > 64 && lane.head * 2 > lane.ids.count {
            lane.ids.removeFirst(lane.head)
            lane.head = 0
        }
        lanes[key] = lane
    }

    /// Spools one event and starts delivering it when its turn comes.
    func enqueue(_ d: Delivery) {
        guard !stopping else { return }
        do {
            // The same event again (a replay) is spooled once and queued once.
            guard spool.items[d.eventId] == nil else { return }
            if try spool.enqueue(d, nowMs: nowMs()) { return added(d) }
            if whenFull == .drop_oldest, let oldest = oldestNotInFlight(), let item = spool.items[oldest] {
                removeFromLane(oldest, key: Self.key(item))
                try spool.remove(oldest, nowMs: nowMs())
                refused += 1
                log.warn("spool full: dropped the oldest event", [("dropped_id", oldest), ("spool_bytes", String(spool.bytes))])
                if try spool.enqueue(d, nowMs: nowMs()) { return added(d) }
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

    private func added(_ d: Delivery) {
        let key = d.tenant + "\u{0}" + (d.conversationId ?? "")
        lanes[key, default: Lane()].ids.append(d.eventId)
        markReady(key)
        schedulePump()
    }

    private func oldestNotInFlight() -> String? {
        for id in spool.orderedIDs {
            guard let item = spool.items[id], let lane = lanes[Self.key(item)] else { continue }
            if let i = lane.ids[lane.head...].firstIndex(of: id), i >= lane.head + lane.started { return id }
        }
        return nil
    }

    /// Puts dead letters back in line in the running daemon (all when `ids` is empty) and
    /// re-enables a sink disabled by a 410; returns how many were revived.
    func retryDead(_ ids: [String]) -> Int {
        var n = 0
        let now = nowMs()
        for id in Array(spool.orderedIDs) where spool.items[id]?.dead == true && (ids.isEmpty || ids.contains(id)) {
            do { try spool.revive(id, nowMs: now) } catch { continue }
            if let item = spool.items[id] {
                let key = Self.key(item)
                lanes[key, default: Lane()].ids.append(id)
                markReady(key)
            }
            n += 1
        }
        disabled = false
        spool.syncIfDirty(nowMs: now, force: true)
        schedulePump()
        return n
    }

    /// Flushes and, when `spool.fsync` is due, syncs the spool even when no delivery runs.
    func syncTick() { spool.syncIfDirty(nowMs: nowMs()) }

    /// Runs `pump` once at the end of this loop turn, however many events arrive in it.
    private func schedulePump() {
        guard !pumpScheduled else { return }
        pumpScheduled = true
        loop.schedule(afterMilliseconds: 0) { [weak self] in
            self?.pumpScheduled = false
            self?.pump()
        }
    }

    /// Starts what may start now: ready conversations in turn (round robin), each in its order,
    /// up to the sink's capacity. Constant work per delivery, whatever the backlog.
    func pump() {
        guard !disabled, !stopping else { return }
        let now = nowMs()
        spool.syncIfDirty(nowMs: now)
        while inFlightCount < sink.capacity && readyHead < ready.count {
            let key = ready[readyHead]
            readyHead += 1
            guard var lane = lanes[key] else { continue }
            lane.queued = false
            guard let id = lane.next, let item = spool.items[id] else {
                if lane.isEmpty && lane.started == 0 { lanes.removeValue(forKey: key) } else { lanes[key] = lane }
                continue
            }
            let delivery: Delivery
            do {
                guard let d = try spool.delivery(id) else { lanes[key] = lane; continue }
                delivery = d
            } catch {
                lanes[key] = lane
                log.error("spool read failed; event dead-lettered", [("id", id), ("error", error.description)])
                try? spool.deadLetter(id, reason: "spool read failed: \(error.description)", nowMs: now)
                removeFromLane(id, key: key)
                markReady(key)
                continue
            }
            lane.started += 1
            lanes[key] = lane
            inFlightCount += 1
            let enqueued = item.enqueuedAtMs
            sink.deliver(delivery) { [weak self] outcome in self?.finished(id, key: key, enqueuedAtMs: enqueued, outcome) }
            markReady(key)   // a pipe takes the conversation's next event at once
        }
        if readyHead > 256 && readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        } else if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        }
    }

    private func finished(_ id: String, key: String, enqueuedAtMs: Int64, _ outcome: DeliveryOutcome) {
        inFlightCount -= 1
        lanes[key]?.started -= 1
        let now = nowMs()
        do {
            switch outcome {
            case .delivered:
                removeFromLane(id, key: key)
                try spool.remove(id, nowMs: now)
                delivered += 1
                onOutcome?(outcome, now - enqueuedAtMs)
            case .retry(let reason, let afterMs):
                let attempts = (spool.items[id]?.attempts ?? 0) + 1
                if Int(attempts) >= schedule.count {
                    removeFromLane(id, key: key)
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
                removeFromLane(id, key: key)
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
        markReady(key)
        // Not `pump()` here: outcomes arrive from inside a sink's own calls, and starting the
        // next deliveries from there would recurse; once per loop turn is enough.
        schedulePump()
    }

    /// Stops delivering; what is in flight or queued stays spooled.
    func stop(graceMs: Int, _ done: @escaping () -> Void) {
        stopping = true
        for (_, t) in retryTimers { loop.cancel(t) }
        retryTimers.removeAll()
        spool.syncIfDirty(nowMs: nowMs(), force: true)
        sink.stop(graceMs: graceMs) { [self] in
            spool.syncIfDirty(nowMs: nowMs(), force: true)
            done()
        }
    }
}
