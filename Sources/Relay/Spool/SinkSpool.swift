import Diagnostics
import Transport

/// The durable queue of one sink: every event is appended to a segment file before it is handed
/// to the sink, and leaves only when the sink accepted it (or it is dropped on request).
///
/// Files: `<spool dir>/<sink>/<8-digit sequence>.log`, append-only, rotated at `segmentBytes`; a
/// segment with no live item left is deleted. Records carry a CRC-32C: a torn or corrupt record is
/// detected at start-up, logged and skipped, and never stops the rest. Durability: records are
/// written with `write(2)` before delivery (a killed daemon loses nothing: the kernel has them);
/// `fsync(2)` runs at most every `syncIntervalMs` (power loss may cost that much), or after every
/// append when `syncIntervalMs` is 0.
final class SinkSpool {
    /// What the spool knows of one item.
    struct Item {
        var id: String
        var tenant: String
        var conversation: String
        var route: String
        var type: String
        var hops: UInt32
        var enqueuedAtMs: Int64
        var segment: Int
        var payloadOffset: Int
        var payloadLength: Int
        var attempts: UInt32 = 0
        var nextAtMs: Int64 = 0
        var lastError = ""
        var dead = false
    }

    /// The sink's spool directory; nil for a memory-only queue (`mojo-bridge pipe`).
    let directory: String?
    let sink: String
    let maxBytes: Int
    let segmentBytes: Int
    let syncIntervalMs: Int
    let log: Logger
    private(set) var items: [String: Item] = [:]
    /// Live item ids in the order they were spooled.
    private(set) var order: [String] = []
    private var orderHead = 0
    private var segments: [Int: (file: SpoolFile, live: Int)] = [:]
    private var current = 0
    private var dirty = false
    private var lastSyncMs: Int64 = 0
    /// Records skipped at start-up because they were torn or corrupt.
    private(set) var corruptRecords = 0
    /// Payloads of a memory-only queue.
    private var memory: [String: [UInt8]] = [:]
    /// Records written in this loop turn, appended in one `write(2)` by `flush()` (before any
    /// delivery starts, so an event is in the file before its sink sees it).
    private var pending: [UInt8] = []
    /// Where `pending` was expected to land, and the items enqueued in it (their payload offsets
    /// are corrected if the file grew meanwhile).
    private var pendingBase = 0
    private var pendingIDs: [String] = []
    /// Payloads spooled by this process, kept (up to `hotLimit` bytes) so delivery does not read
    /// them back from disk.
    private var hot: [String: [UInt8]] = [:]
    private var hotBytes = 0
    private let hotLimit = 16 << 20

    /// A memory-only queue: same order and retry bookkeeping, nothing on disk.
    init(memoryFor sink: String, maxBytes: Int, log: Logger) {
        self.directory = nil
        self.sink = sink
        self.maxBytes = maxBytes
        self.segmentBytes = 0
        self.syncIntervalMs = 0
        self.log = log
    }

    /// Opens (or creates) the spool of `sink` under `directory` and reads back what it holds.
    init(directory: String, sink: String, maxBytes: Int, segmentBytes: Int = 8 << 20, syncIntervalMs: Int = 1000,
         log: Logger) throws(IOError) {
        let dir = directory + "/" + sink
        self.directory = dir
        self.sink = sink
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        self.syncIntervalMs = syncIntervalMs
        self.log = log
        try SpoolDirectory.create(dir)
        try recover()
        if current == 0 { current = 1 }
        if segments[current] == nil { segments[current] = (try SpoolFile(path: path(of: current)), 0) }
    }

    func path(of segment: Int) -> String {
        var digits = String(segment)
        while digits.count < 8 { digits = "0" + digits }
        return (directory ?? "") + "/" + digits + ".log"
    }

    /// Bytes held (on disk, or in memory for a memory-only queue).
    var bytes: Int {
        directory == nil ? memoryBytes : segments.values.reduce(0) { $0 + $1.file.size } + pending.count
    }
    private var memoryBytes = 0
    /// Items waiting (not dead).
    var pendingCount: Int { items.values.reduce(0) { $0 + ($1.dead ? 0 : 1) } }
    /// Dead letters.
    var deadCount: Int { items.values.reduce(0) { $0 + ($1.dead ? 1 : 0) } }

    /// Live ids in spool order (pending and dead).
    var orderedIDs: ArraySlice<String> { order[orderHead...] }

    /// Appends an event; returns false (and writes nothing) when the spool is over `maxBytes`.
    func enqueue(_ d: Delivery, nowMs: Int64) throws(IOError) -> Bool {
        if items[d.eventId] != nil { return true }   // the same event again: already spooled
        let record = SpoolRecord.enqueue(.init(id: d.eventId, tenant: d.tenant, conversation: d.conversationId ?? "",
                                               route: d.route, type: d.type, hops: UInt32(d.hops), enqueuedAtMs: nowMs,
                                               payload: d.payload))
        var encoded: [UInt8] = []
        encoded.reserveCapacity(d.payload.count + 128)
        record.encode(into: &encoded)
        // The record plus room for the record that will retire it.
        guard bytes + encoded.count + 64 <= maxBytes else { return false }
        if directory == nil {
            memory[d.eventId] = d.payload
            memoryBytes += d.payload.count
        } else if hotBytes + d.payload.count <= hotLimit {
            hot[d.eventId] = d.payload
            hotBytes += d.payload.count
        }
        let start = try write(encoded: encoded, nowMs: nowMs)
        items[d.eventId] = Item(id: d.eventId, tenant: d.tenant, conversation: d.conversationId ?? "", route: d.route,
                                type: d.type, hops: UInt32(d.hops), enqueuedAtMs: nowMs, segment: current,
                                payloadOffset: start.end - d.payload.count, payloadLength: d.payload.count)
        segments[current]?.live += 1
        order.append(d.eventId)
        if directory != nil { pendingIDs.append(d.eventId) }
        return true
    }

    /// The delivery for a spooled item (its payload read back from disk).
    func delivery(_ id: String) throws(IOError) -> Delivery? {
        guard let item = items[id] else { return nil }
        let payload: [UInt8]
        if directory == nil {
            payload = memory[id] ?? []
        } else if let cached = hot[id] {
            payload = cached
        } else {
            try flush()
            guard let segment = segments[item.segment] else { return nil }
            payload = try segment.file.read(offset: item.payloadOffset, count: item.payloadLength)
        }
        return Delivery(eventId: id, tenant: item.tenant, route: item.route, type: item.type,
                        conversationId: item.conversation.isEmpty ? nil : item.conversation, payload: payload, hops: Int(item.hops))
    }

    /// The item was delivered (or dropped): it leaves the spool.
    func remove(_ id: String, nowMs: Int64) throws(IOError) {
        guard let item = items.removeValue(forKey: id) else { return }
        if let payload = memory.removeValue(forKey: id) { memoryBytes -= payload.count }
        if let payload = hot.removeValue(forKey: id) { hotBytes -= payload.count }
        _ = try write(.done(id: id), nowMs: nowMs)
        release(segment: item.segment)
        compactOrder()
    }

    /// A failed attempt: record when to try again.
    func scheduleRetry(_ id: String, attempts: UInt32, nextAtMs: Int64, reason: String, nowMs: Int64) throws(IOError) {
        guard items[id] != nil else { return }
        _ = try write(.retry(id: id, attempts: attempts, nextAtMs: nextAtMs, reason: reason), nowMs: nowMs)
        items[id]?.attempts = attempts
        items[id]?.nextAtMs = nextAtMs
        items[id]?.lastError = reason
    }

    /// Gives up on an item: it stays as a dead letter until revived or dropped.
    func deadLetter(_ id: String, reason: String, nowMs: Int64) throws(IOError) {
        guard items[id] != nil else { return }
        _ = try write(.dead(id: id, reason: reason), nowMs: nowMs)
        items[id]?.dead = true
        items[id]?.lastError = reason
    }

    /// Puts a dead letter back in line.
    func revive(_ id: String, nowMs: Int64) throws(IOError) {
        guard items[id]?.dead == true else { return }
        _ = try write(.revive(id: id), nowMs: nowMs)
        items[id]?.dead = false
        items[id]?.attempts = 0
        items[id]?.nextAtMs = 0
    }

    /// Flushes to stable storage if anything was written since the last flush.
    func syncIfDirty(nowMs: Int64, force: Bool = false) {
        guard dirty, directory != nil else { return }
        do {
            try flush()
            guard force || syncIntervalMs == 0 || nowMs - lastSyncMs >= Int64(syncIntervalMs) else { return }
            try segments[current]?.file.sync()
            dirty = false
            lastSyncMs = nowMs
        } catch {
            log.error("spool fsync failed", [("sink", sink), ("error", error.description)])
        }
    }

    private func write(_ record: SpoolRecord, nowMs: Int64) throws(IOError) -> (start: Int, end: Int) {
        guard directory != nil else { return (0, 0) }
        var bytes: [UInt8] = []
        record.encode(into: &bytes)
        return try write(encoded: bytes, nowMs: nowMs)
    }

    private func write(encoded bytes: [UInt8], nowMs: Int64) throws(IOError) -> (start: Int, end: Int) {
        guard directory != nil else { return (0, 0) }
        if let seg = segments[current], seg.file.size + pending.count >= segmentBytes { try rotate() }
        if pending.count >= 1 << 20 { try flush() }
        guard let file = segments[current]?.file else { throw IOError(errno: 5, function: "spool segment missing") }
        if pending.isEmpty { pendingBase = file.size }
        let start = pendingBase + pending.count
        pending.append(contentsOf: bytes)
        dirty = true
        return (start, start + bytes.count)
    }

    deinit { try? flush() }

    /// Appends the records of this loop turn to the segment file, in one write.
    func flush() throws(IOError) {
        guard !pending.isEmpty, let file = segments[current]?.file else { return }
        let start = try file.append(pending)
        if start != pendingBase {
            for id in pendingIDs { items[id]?.payloadOffset += start - pendingBase }
        }
        pendingIDs.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: pending.capacity <= 4 << 20)
    }

    private func rotate() throws(IOError) {
        try flush()
        try segments[current]?.file.sync()
        let old = current
        current += 1
        segments[current] = (try SpoolFile(path: path(of: current)), 0)
        if let seg = segments[old], seg.live == 0 { drop(segment: old) }
    }

    private func release(segment: Int) {
        guard let seg = segments[segment] else { return }
        segments[segment]?.live = seg.live - 1
        if seg.live - 1 <= 0 && segment != current { drop(segment: segment) }
    }

    private func drop(segment: Int) {
        segments.removeValue(forKey: segment)
        SpoolDirectory.remove(path(of: segment))
    }

    private func compactOrder() {
        while orderHead < order.count && items[order[orderHead]] == nil { orderHead += 1 }
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }

    // Recovery (SinkSpool+Recovery.swift) fills these.
    func adopt(segment: Int, file: SpoolFile, items found: [Item], order ids: [String]) {
        segments[segment] = (file, 0)
        current = max(current, segment)
        for item in found { items[item.id] = item }
        order.append(contentsOf: ids)
    }

    func applyAfterRecovery(_ record: SpoolRecord) {
        switch record {
        case .done(let id): items.removeValue(forKey: id)
        case .retry(let id, let attempts, let next, let reason):
            items[id]?.attempts = attempts; items[id]?.nextAtMs = next; items[id]?.lastError = reason
        case .dead(let id, let reason): items[id]?.dead = true; items[id]?.lastError = reason
        case .revive(let id): items[id]?.dead = false; items[id]?.attempts = 0; items[id]?.nextAtMs = 0
        case .enqueue: break
        }
    }

    func finishRecovery() {
        order = order.filter { items[$0] != nil }
        var seen = Set<String>()
        order = order.filter { seen.insert($0).inserted }
        for key in segments.keys { segments[key]?.live = 0 }
        for item in items.values { segments[item.segment]?.live += 1 }
        for (key, seg) in segments where seg.live == 0 && key != current { drop(segment: key) }
    }

    func countCorrupt() { corruptRecords += 1 }
}
