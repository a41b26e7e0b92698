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
    /// What the spool knows of one item: its entry (`item.id`, `item.tenant`, ... read through),
    /// where its payload is, and its delivery state.
    @dynamicMemberLookup
    struct Item {
        var entry: SpoolEntry
        var segment: Int
        var payloadOffset: Int
        var payloadLength: Int
        var attempts: UInt32 = 0
        var nextAtMs: Int64 = 0
        var lastError = ""
        var dead = false
        /// The payload kept in memory: always for a memory-only queue; for a disk spool while the
        /// hot cache has room (delivery then does not read it back from disk).
        var payload: [UInt8]? = nil

        subscript<T>(dynamicMember field: KeyPath<SpoolEntry, T>) -> T { entry[keyPath: field] }
    }

    /// What `admit` did with an event.
    enum Admission: Equatable {
        /// Spooled under this sequence number.
        case added(Int)
        /// The same event id is spooled already (a replay): nothing written.
        case duplicate
        /// Over `maxBytes`: nothing written.
        case full
    }

    /// The sink's spool directory; nil for a memory-only queue (`mojo-bridge pipe`).
    let directory: String?
    let sink: String
    let maxBytes: Int
    let segmentBytes: Int
    let syncIntervalMs: Int
    let log: Logger
    /// Live items by sequence number: numbers are given in spool order and never reused, so the
    /// hot path looks items up by an integer rather than by their 36-character event id.
    private(set) var bySeq: [Int: Item] = [:]
    /// Event id to sequence number (replays, and the id-based calls of the admin and the CLI).
    private var seqOf: [String: Int] = [:]
    private var nextSeq = 1
    /// Live sequence numbers in spool order.
    private var order: [Int] = []
    private var orderHead = 0
    /// One segment file and how many live items it holds.
    final class Segment {
        let file: SpoolFile
        var live = 0
        init(file: SpoolFile) { self.file = file }
    }
    private var segments: [Int: Segment] = [:]
    private var current = 0
    /// `segments[current]`, kept at hand: the hot path appends to it and retires items from it.
    private var currentSegment: Segment?
    /// Bytes in the segments other than the current one (they no longer grow).
    private var closedBytes = 0
    private var dirty = false
    private var lastSyncMs: Int64 = 0
    /// Records skipped at start-up because they were torn or corrupt.
    private(set) var corruptRecords = 0
    /// Records written in this loop turn, appended in one `write(2)` by `flush()` (before any
    /// delivery starts, so an event is in the file before its sink sees it).
    private var pending: [UInt8] = []
    /// Where `pending` was expected to land, and the items enqueued in it (their payload offsets
    /// are corrected if the file grew meanwhile).
    private var pendingBase = 0
    private var pendingSeqs: [Int] = []
    /// Bytes of payload held in memory (`Item.payload`), and the cap for a disk spool.
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
        if segments[current] == nil { segments[current] = Segment(file: try SpoolFile(path: path(of: current))) }
        currentSegment = segments[current]
        closedBytes = segments.reduce(0) { $0 + ($1.key == current ? 0 : $1.value.file.size) }
    }

    func path(of segment: Int) -> String {
        var digits = String(segment)
        while digits.count < 8 { digits = "0" + digits }
        return (directory ?? "") + "/" + digits + ".log"
    }

    /// Bytes held (on disk, or in memory for a memory-only queue).
    var bytes: Int {
        directory == nil ? hotBytes : closedBytes + (currentSegment?.file.size ?? 0) + pending.count
    }
    /// Items waiting (not dead).
    var pendingCount: Int { bySeq.values.reduce(0) { $0 + ($1.dead ? 0 : 1) } }
    /// Dead letters.
    var deadCount: Int { bySeq.values.reduce(0) { $0 + ($1.dead ? 1 : 0) } }
    /// Whether nothing is held.
    var isEmpty: Bool { bySeq.isEmpty }

    /// Live sequence numbers in spool order (pending and dead).
    var orderedSeqs: ArraySlice<Int> { order[orderHead...] }
    /// Live event ids in spool order (pending and dead).
    var orderedIDs: [String] { orderedSeqs.compactMap { bySeq[$0]?.id } }

    /// The item with sequence number `seq`.
    func item(_ seq: Int) -> Item? { bySeq[seq] }
    /// When item `seq` may be tried next (0: now); nil when it is gone. (The hot path reads single
    /// fields rather than copying an item with its six references.)
    func nextAtMs(_ seq: Int) -> Int64? { bySeq[seq]?.nextAtMs }
    /// When item `seq` was spooled.
    func enqueuedAtMs(_ seq: Int) -> Int64? { bySeq[seq]?.enqueuedAtMs }
    /// The sequence number of event `id`, if it is spooled.
    func seq(of id: String) -> Int? { seqOf[id] }
    /// The item of event `id`.
    func item(id: String) -> Item? { seqOf[id].flatMap { bySeq[$0] } }

    /// Appends an event unless it is spooled already or the spool is over `maxBytes`.
    func admit(_ d: Delivery, nowMs: Int64) throws(IOError) -> Admission {
        if seqOf[d.eventId] != nil { return .duplicate }
        let entry = SpoolEntry(id: d.eventId, tenant: d.tenant, conversation: d.conversationId ?? "", route: d.route,
                               type: d.type, hops: UInt32(d.hops), enqueuedAtMs: nowMs)
        let size = SpoolRecord.enqueueSize(entry, payloadCount: d.payload.count)
        // The record plus room for the record that will retire it.
        guard bytes + size + 64 <= maxBytes else { return .full }
        let end = try append(nowMs: nowMs) { SpoolRecord.encodeEnqueue(entry, payload: d.payload, into: &$0) }
        var item = Item(entry: entry, segment: current, payloadOffset: end - d.payload.count, payloadLength: d.payload.count)
        if directory == nil || hotBytes + d.payload.count <= hotLimit {
            item.payload = d.payload
            hotBytes += d.payload.count
        }
        let seq = nextSeq
        nextSeq += 1
        bySeq[seq] = item
        seqOf[d.eventId] = seq
        currentSegment?.live += 1
        order.append(seq)
        if directory != nil { pendingSeqs.append(seq) }
        return .added(seq)
    }

    /// Appends an event; false (nothing written) when the spool is over `maxBytes`. The same
    /// event again is spooled once.
    func enqueue(_ d: Delivery, nowMs: Int64) throws(IOError) -> Bool {
        try admit(d, nowMs: nowMs) != .full
    }

    /// The delivery for a spooled item (its payload from memory, or read back from disk).
    func delivery(_ seq: Int) throws(IOError) -> Delivery? {
        guard let item = bySeq[seq] else { return nil }
        let payload: [UInt8]
        if let cached = item.payload {
            payload = cached
        } else if directory == nil {
            payload = []
        } else {
            try flush()
            guard let segment = item.segment == current ? currentSegment : segments[item.segment] else { return nil }
            payload = try segment.file.read(offset: item.payloadOffset, count: item.payloadLength)
        }
        return Delivery(eventId: item.id, tenant: item.tenant, route: item.route, type: item.type,
                        conversationId: item.conversation.isEmpty ? nil : item.conversation, payload: payload, hops: Int(item.hops))
    }

    /// The delivery for event `id`.
    func delivery(_ id: String) throws(IOError) -> Delivery? {
        guard let seq = seqOf[id] else { return nil }
        return try delivery(seq)
    }

    /// The item was delivered (or dropped): it leaves the spool.
    func remove(_ seq: Int, nowMs: Int64) throws(IOError) {
        guard let item = bySeq.removeValue(forKey: seq) else { return }
        seqOf.removeValue(forKey: item.id)
        if let payload = item.payload { hotBytes -= payload.count }
        try write(.done(id: item.id), nowMs: nowMs)
        release(segment: item.segment)
        compactOrder()
    }

    /// Event `id` leaves the spool.
    func remove(_ id: String, nowMs: Int64) throws(IOError) {
        guard let seq = seqOf[id] else { return }
        try remove(seq, nowMs: nowMs)
    }

    /// A failed attempt: record when to try again.
    func scheduleRetry(_ seq: Int, attempts: UInt32, nextAtMs: Int64, reason: String, nowMs: Int64) throws(IOError) {
        guard let id = bySeq[seq]?.id else { return }
        try write(.retry(id: id, attempts: attempts, nextAtMs: nextAtMs, reason: reason), nowMs: nowMs)
        bySeq[seq]?.attempts = attempts
        bySeq[seq]?.nextAtMs = nextAtMs
        bySeq[seq]?.lastError = reason
    }

    /// A failed attempt of event `id`.
    func scheduleRetry(_ id: String, attempts: UInt32, nextAtMs: Int64, reason: String, nowMs: Int64) throws(IOError) {
        guard let seq = seqOf[id] else { return }
        try scheduleRetry(seq, attempts: attempts, nextAtMs: nextAtMs, reason: reason, nowMs: nowMs)
    }

    /// Gives up on an item: it stays as a dead letter until revived or dropped.
    func deadLetter(_ seq: Int, reason: String, nowMs: Int64) throws(IOError) {
        guard let id = bySeq[seq]?.id else { return }
        try write(.dead(id: id, reason: reason), nowMs: nowMs)
        bySeq[seq]?.dead = true
        bySeq[seq]?.lastError = reason
    }

    /// Gives up on event `id`.
    func deadLetter(_ id: String, reason: String, nowMs: Int64) throws(IOError) {
        guard let seq = seqOf[id] else { return }
        try deadLetter(seq, reason: reason, nowMs: nowMs)
    }

    /// Puts a dead letter back in line.
    func revive(_ seq: Int, nowMs: Int64) throws(IOError) {
        guard let item = bySeq[seq], item.dead else { return }
        try write(.revive(id: item.id), nowMs: nowMs)
        bySeq[seq]?.dead = false
        bySeq[seq]?.attempts = 0
        bySeq[seq]?.nextAtMs = 0
    }

    /// Puts dead letter `id` back in line.
    func revive(_ id: String, nowMs: Int64) throws(IOError) {
        guard let seq = seqOf[id] else { return }
        try revive(seq, nowMs: nowMs)
    }

    /// Flushes to stable storage if anything was written since the last flush.
    func syncIfDirty(nowMs: Int64, force: Bool = false) {
        guard dirty, directory != nil else { return }
        do {
            try flush()
            guard force || syncIntervalMs == 0 || nowMs - lastSyncMs >= Int64(syncIntervalMs) else { return }
            try currentSegment?.file.sync()
            dirty = false
            lastSyncMs = nowMs
        } catch {
            log.error("spool fsync failed", [("sink", sink), ("error", error.description)])
        }
    }

    private func write(_ record: SpoolRecord, nowMs: Int64) throws(IOError) {
        _ = try append(nowMs: nowMs) { record.encode(into: &$0) }
    }

    /// Appends one record (written by `encode` into the batch of this loop turn); returns where
    /// the record ends in the segment file.
    private func append(nowMs: Int64, _ encode: (inout [UInt8]) -> Void) throws(IOError) -> Int {
        guard directory != nil else { return 0 }
        if let seg = currentSegment, seg.file.size + pending.count >= segmentBytes { try rotate() }
        if pending.count >= 1 << 20 { try flush() }
        guard let file = currentSegment?.file else { throw IOError(errno: 5, function: "spool segment missing") }
        if pending.isEmpty { pendingBase = file.size }
        encode(&pending)
        dirty = true
        return pendingBase + pending.count
    }

    deinit { try? flush() }

    /// Appends the records of this loop turn to the segment file, in one write.
    func flush() throws(IOError) {
        guard !pending.isEmpty, let file = currentSegment?.file else { return }
        let start = try file.append(pending)
        if start != pendingBase {
            for seq in pendingSeqs { bySeq[seq]?.payloadOffset += start - pendingBase }
        }
        pendingSeqs.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: pending.capacity <= 4 << 20)
    }

    private func rotate() throws(IOError) {
        try flush()
        try currentSegment?.file.sync()
        let old = current
        closedBytes += currentSegment?.file.size ?? 0
        current += 1
        let next = Segment(file: try SpoolFile(path: path(of: current)))
        segments[current] = next
        currentSegment = next
        if let seg = segments[old], seg.live == 0 { drop(segment: old) }
    }

    private func release(segment: Int) {
        if segment == current {
            currentSegment?.live -= 1
            return
        }
        guard let seg = segments[segment] else { return }
        seg.live -= 1
        if seg.live <= 0 { drop(segment: segment) }
    }

    private func drop(segment: Int) {
        if let gone = segments.removeValue(forKey: segment), segment != current { closedBytes -= gone.file.size }
        SpoolDirectory.remove(path(of: segment))
    }

    private func compactOrder() {
        while orderHead < order.count && bySeq[order[orderHead]] == nil { orderHead += 1 }
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }

    // Recovery (SinkSpool+Recovery.swift) fills these.
    func adopt(segment: Int, file: SpoolFile, items found: [Item]) {
        segments[segment] = Segment(file: file)
        current = max(current, segment)
        for item in found {
            // The same id spooled twice: the later record wins, at the first one's place.
            if let seq = seqOf[item.id] {
                bySeq[seq] = item
            } else {
                bySeq[nextSeq] = item
                seqOf[item.id] = nextSeq
                order.append(nextSeq)
                nextSeq += 1
            }
        }
    }

    func applyAfterRecovery(_ record: SpoolRecord) {
        switch record {
        case .done(let id):
            if let seq = seqOf.removeValue(forKey: id) { bySeq.removeValue(forKey: seq) }
        case .retry(let id, let attempts, let next, let reason):
            guard let seq = seqOf[id] else { return }
            bySeq[seq]?.attempts = attempts; bySeq[seq]?.nextAtMs = next; bySeq[seq]?.lastError = reason
        case .dead(let id, let reason):
            guard let seq = seqOf[id] else { return }
            bySeq[seq]?.dead = true; bySeq[seq]?.lastError = reason
        case .revive(let id):
            guard let seq = seqOf[id] else { return }
            bySeq[seq]?.dead = false; bySeq[seq]?.attempts = 0; bySeq[seq]?.nextAtMs = 0
        case .enqueue: break
        }
    }

    func finishRecovery() {
        order = order.filter { bySeq[$0] != nil }
        for seg in segments.values { seg.live = 0 }
        for item in bySeq.values { segments[item.segment]?.live += 1 }
        for (key, seg) in segments where seg.live == 0 && key != current { drop(segment: key) }
    }

    func countCorrupt() { corruptRecords += 1 }
}
