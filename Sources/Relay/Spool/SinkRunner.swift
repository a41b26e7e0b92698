import Diagnostics
import Rules
import Transport

/// In front of each sink: the durable queue (`SinkSpool`), order per conversation, the retry
/// schedule with jitter, dead letters, and the when-full policy.
final class SinkRunner {
    let name: String
    let sink: Sink
    let spool: SinkSpool
    private let loop: any Scheduler
    private let log: Logger
    private let schedule: [Int]
    private let whenFull: SinkSettings.WhenFull
    private let nowMs: () -> Int64
    /// One conversation's live events in spool order: the first `started` after `head` are in
    /// flight. A lane is in `ready` when it may start its next event now. Lanes live in an array
    /// and are named by their index (reused once a lane is empty), so the hot path hashes no
    /// strings; `laneOf` finds a conversation's lane when an event arrives.
    private struct Lane {
        var key: LaneKey
        var seqs: [Int] = []
        var head = 0
        var started = 0
        var queued = false
        var retryTimer: TimerID?
        var next: Int? { head + started < seqs.count ? seqs[head + started] : nil }
        var isEmpty: Bool { head >= seqs.count }
        var isIdle: Bool { isEmpty && started == 0 && !queued && retryTimer == nil }
    }
    private struct LaneKey: Hashable {
        var tenant: String
        var conversation: String
    }
    private var lanes: [Lane] = []
    private var freeLanes: [Int] = []
    private var laneOf: [LaneKey: Int] = [:]
    private var ready: [Int] = []
    private var readyHead = 0
    private(set) var inFlightCount = 0
    /// Payload bytes of the deliveries in flight (bounded by `sink.capacityBytes`).
    private(set) var inFlightBytes = 0
    private var pumpScheduled = false
    private var random = SystemRandomNumberGenerator()
    private(set) var disabled = false
    private var stopping = false
    /// Counters for metrics.
    private(set) var delivered = 0, retried = 0, deadLettered = 0, refused = 0
    /// Every attempt's outcome, with the latency from spooling to acceptance for deliveries (metrics).
    var onOutcome: ((_ outcome: DeliveryOutcome, _ latencyMs: Int64?) -> Void)?
    /// An event lost because the spool was full: refused, or the oldest dropped (metrics).
    var onRefused: (() -> Void)?
    /// The oldest event dropped to make room (`when_full = drop_oldest`; metrics).
    var onDropped: (() -> Void)?

    init(settings: SinkSettings, sink: Sink, spool: SinkSpool, loop: any Scheduler, log: Logger, nowMs: @escaping () -> Int64) {
        self.name = settings.name
        self.sink = sink
        self.spool = spool
        self.loop = loop
        self.log = log.with("sink", settings.name)
        self.schedule = settings.retry.map(\.wholeMilliseconds)
        self.whenFull = settings.whenFull
        self.nowMs = nowMs
        // Events admitted in this turn whose batch could not be written: refused, and counted so.
        spool.onUnwritten = { [weak self] n in
            guard let self else { return }
            self.refused += n
            for _ in 0..<n { self.onRefused?() }
        }
        var touched: [Int] = []
        for seq in Array(spool.orderedSeqs) + spool.refill() {
            guard let item = spool.item(seq) else { continue }
            let lane = lane(for: item)
            if lanes[lane].seqs.isEmpty { touched.append(lane) }
            lanes[lane].seqs.append(seq)
        }
        for lane in touched { markReady(lane) }
        if !ready.isEmpty { schedulePump() }
    }

    /// Queues what the spool loaded from disk (its window had room again), in spool order.
    private func takeLoaded() {
        for seq in spool.refill() {
            guard let item = spool.item(seq) else { continue }
            added(seq, tenant: item.tenant, conversation: item.conversation)
        }
    }

    /// Conversations with a lane now, and lane slots ever made (tests: lanes are freed and reused).
    var liveLanes: Int { laneOf.count }
    var laneSlots: Int { lanes.count }

    /// The lane of an item's conversation, created when it has none.
    private func lane(for item: SinkSpool.Item) -> Int {
        lane(tenant: item.tenant, conversation: item.conversation)
    }

    private func lane(tenant: String, conversation: String) -> Int {
        let key = LaneKey(tenant: tenant, conversation: conversation)
        if let index = laneOf[key] { return index }
        let index: Int
        if let free = freeLanes.popLast() {
            index = free
            lanes[index] = Lane(key: key)
        } else {
            index = lanes.count
            lanes.append(Lane(key: key))
        }
        laneOf[key] = index
        return index
    }

    /// Forgets a lane with nothing left to do (its index is reused).
    private func releaseIfIdle(_ lane: Int) {
        guard lanes[lane].isIdle else { return }
        laneOf.removeValue(forKey: lanes[lane].key)
        lanes[lane].seqs = []
        lanes[lane].head = 0
        freeLanes.append(lane)
    }

    /// Queues the lane if it may start its next event now, or arms its retry timer.
    private func markReady(_ lane: Int) {
        guard !lanes[lane].queued else { return }
        // Events gone from the spool meanwhile (refused when their batch could not be written)
        // leave the lane; otherwise they would hold its conversation forever.
        while let seq = lanes[lane].next, spool.nextAtMs(seq) == nil { removeFromLane(seq, lane: lane) }
        guard let seq = lanes[lane].next, let nextAtMs = spool.nextAtMs(seq) else { return }
        if !sink.pipelinesConversations && lanes[lane].started > 0 { return }
        let now = nextAtMs > 0 ? nowMs() : 0
        if nextAtMs > now {
            // Later events of this conversation wait behind the one being retried.
            guard lanes[lane].retryTimer == nil else { return }
            lanes[lane].retryTimer = loop.schedule(afterMilliseconds: Int(nextAtMs - now)) { [weak self] in
                guard let self else { return }
                self.lanes[lane].retryTimer = nil
                self.markReady(lane)
                self.releaseIfIdle(lane)
                self.pump()
            }
            return
        }
        lanes[lane].queued = true
        ready.append(lane)
    }

    private func removeFromLane(_ seq: Int, lane: Int) {
        if lanes[lane].head < lanes[lane].seqs.count, lanes[lane].seqs[lanes[lane].head] == seq {
            lanes[lane].head += 1
        } else if let i = lanes[lane].seqs[lanes[lane].head...].firstIndex(of: seq) {
            lanes[lane].seqs.remove(at: i)
        }
        if lanes[lane].head > 64 && lanes[lane].head * 2 > lanes[lane].seqs.count {
            lanes[lane].seqs.removeFirst(lanes[lane].head)
            lanes[lane].head = 0
        }
    }

    /// Spools one event and starts delivering it when its turn comes.
    func enqueue(_ d: Delivery) {
        guard !stopping else { return }
        do {
            // The same event again (a replay) is spooled once and queued once.
            switch try spool.admit(d, nowMs: nowMs()) {
            case .added(let seq): return added(seq, tenant: d.tenant, conversation: d.conversationId ?? "")
            case .spooled, .duplicate: return
            case .full: break
            }
            if whenFull == .drop_oldest, let (oldest, lane) = oldestNotInFlight() {
                let dropped = spool.item(oldest)?.id ?? ""
                removeFromLane(oldest, lane: lane)
                try spool.remove(oldest, nowMs: nowMs())
                releaseIfIdle(lane)
                refused += 1
                onDropped?()
                log.warn("spool full: dropped the oldest event", [("dropped_id", dropped), ("spool_bytes", String(spool.bytes))])
                switch try spool.admit(d, nowMs: nowMs()) {
                case .added(let seq): return added(seq, tenant: d.tenant, conversation: d.conversationId ?? "")
                case .spooled, .duplicate: return
                case .full: break
                }
            }
            refused += 1
            onRefused?()
            if refused == 1 || refused % 1000 == 0 {
                log.error(spool.writeFailing ? "spool cannot be written (\(spool.lastWriteError)): event refused" : "spool full: event refused",
                          [("id", d.eventId), ("refused_total", String(refused)), ("max_bytes", String(spool.maxBytes))])
            }
        } catch {
            refused += 1
            onRefused?()
            log.error("spool write failed: event not accepted", [("id", d.eventId), ("error", error.description)])
        }
    }

    private func added(_ seq: Int, tenant: String, conversation: String) {
        let lane = lane(tenant: tenant, conversation: conversation)
        lanes[lane].seqs.append(seq)
        markReady(lane)
        schedulePump()
    }

    private func oldestNotInFlight() -> (seq: Int, lane: Int)? {
        for seq in spool.orderedSeqs {
            guard let item = spool.item(seq), let lane = laneOf[LaneKey(tenant: item.tenant, conversation: item.conversation)] else { continue }
            let l = lanes[lane]
            if let i = l.seqs[l.head...].firstIndex(of: seq), i >= l.head + l.started { return (seq, lane) }
        }
        return nil
    }

    /// Puts dead letters back in line in the running daemon (all when `ids` is empty) and
    /// re-enables a sink disabled by a 410; returns how many were revived.
    func retryDead(_ ids: [String]) -> Int {
        let now = nowMs()
        var n = 0
        do {
            for a in try spool.revive(ids: ids, nowMs: now) {
                n += 1
                guard case .added(let seq) = a, let item = spool.item(seq) else { continue }
                added(seq, tenant: item.tenant, conversation: item.conversation)
            }
        } catch {
            log.error("dead letters could not be put back in line", [("error", error.description)])
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
        takeLoaded()
        while inFlightCount < sink.capacity && (inFlightCount == 0 || inFlightBytes < sink.capacityBytes)
                && readyHead < ready.count {
            let lane = ready[readyHead]
            readyHead += 1
            lanes[lane].queued = false
            guard let seq = lanes[lane].next else {
                releaseIfIdle(lane)
                continue
            }
            guard let enqueued = spool.enqueuedAtMs(seq) else {
                // Gone from the spool (its record could not be written): the lane moves on.
                removeFromLane(seq, lane: lane)
                markReady(lane)
                releaseIfIdle(lane)
                continue
            }
            let delivery: Delivery
            do {
                guard let d = try spool.delivery(seq) else { continue }
                delivery = d
            } catch {
                // Unreadable on disk (an I/O error): retried on the schedule, never dead-lettered
                // for it at once.
                let attempts = (spool.item(seq)?.attempts ?? 0)
                let delay = schedule.count > Int(attempts) + 1 ? schedule[Int(attempts) + 1] : (schedule.last ?? 1000)
                log.error("spool read failed; will try again", [("id", spool.item(seq)?.id ?? ""), ("retry_in_ms", String(max(delay, 1000))),
                                                                ("error", error.description)])
                try? spool.scheduleRetry(seq, attempts: attempts, nextAtMs: now + Int64(max(delay, 1000)),
                                         reason: "spool read failed: \(error.description)", nowMs: now)
                markReady(lane)
                continue
            }
            lanes[lane].started += 1
            inFlightCount += 1
            let bytes = delivery.payload.count
            inFlightBytes += bytes
            sink.deliver(delivery) { [weak self] outcome in
                self?.inFlightBytes -= bytes
                self?.finished(seq, lane: lane, enqueuedAtMs: enqueued, outcome)
            }
            markReady(lane)   // a pipe takes the conversation's next event at once
        }
        if readyHead > 256 && readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        } else if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        }
    }

    private func finished(_ seq: Int, lane: Int, enqueuedAtMs: Int64, _ outcome: DeliveryOutcome) {
        inFlightCount -= 1
        lanes[lane].started -= 1
        let now = nowMs()
        // What metrics count: a retry past the last attempt is a dead letter.
        var reported = outcome
        do {
            switch outcome {
            case .delivered:
                removeFromLane(seq, lane: lane)
                try spool.remove(seq, nowMs: now)
                delivered += 1
                onOutcome?(outcome, now - enqueuedAtMs)
            case .retry(let reason, let afterMs):
                let id = spool.item(seq)?.id ?? ""
                let attempts = (spool.item(seq)?.attempts ?? 0) + 1
                if Int(attempts) >= schedule.count {
                    guard moveToDead(seq, attempts: attempts, reason: reason, afterMs: afterMs, now: now) else { break }
                    removeFromLane(seq, lane: lane)
                    deadLettered += 1
                    reported = .failed(reason: reason)
                    log.error("delivery failed for good; dead-lettered", [("id", id), ("attempts", String(attempts)), ("reason", reason)])
                } else {
                    let base = schedule[Int(attempts)]
                    // ±10% jitter spreads retries of many events (no herd against a recovering receiver).
                    let jitter = base > 0 ? Int.random(in: -(base / 10)...(base / 10), using: &random) : 0
                    let delay = max(base + jitter, afterMs ?? 0)
                    try spool.scheduleRetry(seq, attempts: attempts, nextAtMs: now + Int64(delay), reason: reason, nowMs: now)
                    retried += 1
                    log.warn("delivery failed; will retry", [("id", id), ("attempt", String(attempts)), ("retry_in_ms", String(delay)), ("reason", reason)])
                }
            case .failed(let reason):
                let id = spool.item(seq)?.id ?? ""
                let attempts = (spool.item(seq)?.attempts ?? 0) + 1
                guard moveToDead(seq, attempts: attempts, reason: reason, afterMs: nil, now: now) else { break }
                removeFromLane(seq, lane: lane)
                deadLettered += 1
                log.error("delivery refused; dead-lettered", [("id", id), ("reason", reason)])
            case .disabled(let reason):
                disabled = true
                log.error("sink disabled: the receiver is gone; events stay spooled until the config is reloaded", [("reason", reason)])
            }
        } catch {
            log.error("spool write failed", [("id", spool.item(seq)?.id ?? ""), ("error", error.description)])
        }
        if outcome != .delivered { onOutcome?(reported, nil) }
        markReady(lane)
        releaseIfIdle(lane)
        // Not `pump()` here: outcomes arrive from inside a sink's own calls, and starting the
        // next deliveries from there would recurse; once per loop turn is enough.
        schedulePump()
    }

    /// Dead-letters an item; when the dead letter cannot be written (a full disk) the item stays
    /// queued and is tried again after the schedule's last delay: nothing is dead-lettered, or
    /// lost, for want of space.
    private func moveToDead(_ seq: Int, attempts: UInt32, reason: String, afterMs: Int?, now: Int64) -> Bool {
        do {
            try spool.deadLetter(seq, attempts: attempts, reason: reason, nowMs: now)
            return true
        } catch {
            guard spool.item(seq) != nil else { return true }
            let delay = max(schedule.last ?? 1000, 1000, afterMs ?? 0)
            try? spool.scheduleRetry(seq, attempts: attempts - 1, nextAtMs: now + Int64(delay), reason: reason, nowMs: now)
            log.error("dead letter could not be written; will try again", [("id", spool.item(seq)?.id ?? ""),
                                                                            ("retry_in_ms", String(delay)), ("error", error.description)])
            return false
        }
    }

    /// Stops delivering; what is in flight or queued stays spooled.
    func stop(graceMs: Int, _ done: @escaping () -> Void) {
        stopping = true
        for i in lanes.indices {
            if let t = lanes[i].retryTimer { loop.cancel(t) }
            lanes[i].retryTimer = nil
        }
        spool.syncIfDirty(nowMs: nowMs(), force: true)
        sink.stop(graceMs: graceMs) { [self] in
            try? spool.checkpoint(sync: false)
            spool.syncIfDirty(nowMs: nowMs(), force: true)
            // A new runner may open the same spool (a reload): this one only records removals now.
            spool.close()
            done()
        }
    }
}
