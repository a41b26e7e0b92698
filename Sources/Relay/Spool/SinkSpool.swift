import Diagnostics
import Transport

/// The durable queue of one sink: every event is appended to a segment file before it is handed
/// to the sink, and leaves only when the sink accepted it (or it is dropped on request).
///
/// Files: `<spool dir>/<sink>/<8-digit sequence>.log`, append-only, rotated at `segmentBytes`,
/// and `dead.log` for the dead letters (`DeadLetterStore`). Records carry a CRC-32C: a torn or
/// corrupt record is detected, logged and skipped, and never stops the rest. Durability: records
/// are written with `write(2)` before delivery (a killed daemon loses nothing: the kernel has
/// them); `fsync(2)` runs at most every `syncIntervalMs`, or after every append when it is 0.
///
/// Memory does not grow with the backlog: at most `windowLimit` events are loaded (their entry,
/// retry state and, while a fixed cache has room, their payload); the rest wait on disk behind a
/// read cursor that moves through the segments in order as the window drains. Everything before
/// the cursor is resolved except what the window holds; a checkpoint record (the cursor, the
/// window's positions and retry state) is written at the start of every segment, before a segment
/// is deleted and every `checkpointEvery` removals, so recovery reads only from the last
/// checkpoint on. A segment is deleted once it lies wholly before the cursor and holds no window
/// item: a later checkpoint covers it, so nothing it resolved can come back.
final class SinkSpool {
    /// What the spool knows of one loaded item: its entry (`item.id`, `item.tenant`, ... read
    /// through), where it is, and its delivery state.
    @dynamicMemberLookup
    struct Item {
        var entry: SpoolEntry
        /// Where its enqueue record starts (`SpoolPosition`); 0 in a memory-only queue.
        var position: Int
        var payloadOffset: Int
        var payloadLength: Int
        var attempts: UInt32 = 0
        var nextAtMs: Int64 = 0
        var lastError = ""
        /// The payload kept in memory: always for a memory-only queue; for a disk spool while the
        /// cache has room (delivery then does not read it back from disk).
        var payload: [UInt8]? = nil

        var segment: Int { SpoolPosition.segment(position) }
        subscript<T>(dynamicMember field: KeyPath<SpoolEntry, T>) -> T { entry[keyPath: field] }
    }

    /// What `admit` did with an event.
    enum Admission: Equatable {
        /// Spooled and loaded under this sequence number: the runner may queue it now.
        case added(Int)
        /// Spooled behind the window: it is loaded (`refill`) when its turn comes.
        case spooled
        /// The same event id was spooled recently (a replay): nothing written.
        case duplicate
        /// Over `maxBytes`, or the spool cannot be written: nothing written.
        case full
    }

    /// The sink's spool directory; nil for a memory-only queue (`mojo-bridge pipe`).
    let directory: String?
    let sink: String
    let maxBytes: Int
    let segmentBytes: Int
    let syncIntervalMs: Int
    /// How many items may be loaded at once (disk spools).
    let windowLimit: Int
    let log: Logger
    /// The dead letters.
    let dead: DeadLetterStore
    /// Loaded items by sequence number: numbers are given in spool order and never reused, so the
    /// hot path looks items up by an integer rather than by their 36-character event id.
    private(set) var bySeq: [Int: Item] = [:]
    /// Event id to sequence number (loaded items).
    private var seqOf: [String: Int] = [:]
    private var nextSeq = 1
    /// Loaded sequence numbers in spool order.
    private var order: [Int] = []
    private var orderHead = 0
    /// The ids of the last `recentLimit` events spooled: a replay of one of them is recognised
    /// even when it left the window already.
    private var recent = FIFO<String>()
    private var recentSet: Set<String> = []
    static let recentLimit = 4096

    /// One segment file and how many loaded items it holds; the file is opened when needed.
    final class Segment {
        let path: String
        var size: Int
        var live = 0
        private var opened: SpoolFile?
        init(path: String, size: Int) {
            self.path = path
            self.size = size
        }
        init(file: SpoolFile) {
            path = file.path
            size = file.size
            opened = file
        }
        func file() throws(IOError) -> SpoolFile {
            if let opened { return opened }
            let f = try SpoolFile(path: path)
            opened = f
            return f
        }
        func close() { opened = nil }
    }
    var segments: [Int: Segment] = [:]
    var current = 0
    /// `segments[current]`, kept at hand: the hot path appends to it.
    var currentSegment: Segment?
    /// Bytes in the segments other than the current one (they no longer grow).
    var closedBytes = 0

    /// The next record to look at for loading (`SpoolPosition`).
    var cursor = 0
    /// Live events on disk at or after the cursor (not loaded yet).
    var behind = 0
    /// Positions at or after the cursor that are resolved already (read back at recovery).
    var skip: Set<Int> = []
    /// Retry state of positions at or after the cursor (read back at recovery).
    var laterState: [Int: (attempts: UInt32, nextAtMs: Int64, reason: String)] = [:]
    private var scanner: (segment: Int, scanner: SpoolScanner)?
    private var lastCollectSegment = 0
    /// Where recovery began reading (its checkpoint's end): corrupt records after it were counted.
    var replayStart = 0

    private var dirty = false
    private var lastSyncMs: Int64 = 0
    /// Records skipped because they were torn or corrupt.
    private(set) var corruptRecords = 0
    /// Enqueue records of this loop turn and the items they belong to, appended in one
    /// `write(2)` by `flush()` (before any delivery starts, so an event is in the file before its
    /// sink sees it); `pendingBase` is where they were expected to land.
    private var pendingEnqueues: [UInt8] = []
    private var pendingBase = 0
    private var pendingSeqs: [Int] = []
    /// Enqueue records of this turn's batch that went behind the window.
    private var pendingBehind = 0
    /// State records (done, retry, checkpoint) waiting to be written: they concern events that
    /// are on disk already, and are kept until a write succeeds.
    private var pendingState: [UInt8] = []
    /// Removals since the last checkpoint.
    private var removalsSinceCheckpoint = 0
    var checkpointEvery = 16_384
    /// Bytes of payload held in memory (`Item.payload`), and the cap for a disk spool.
    private var hotBytes = 0
    static let hotLimit = 2 << 20
    /// No more rotations, deletions or checkpoints (a retired runner's spool: a new one owns the
    /// files now).
    private var closed = false

    /// Whether the last write failed (a full disk): new events are refused until a write succeeds.
    private(set) var writeFailing = false
    /// Writes that failed, since start (metrics).
    private(set) var writeErrors = 0
    /// Events refused because their record could not be written.
    private(set) var unwritten = 0
    /// Called for every failed write (metrics).
    var onWriteError: (() -> Void)?
    /// Called with how many events of a batch were refused because their records could not be
    /// written (they were admitted in this loop turn; the runner counts them as refused).
    var onUnwritten: ((Int) -> Void)?
    /// The last write error.
    private(set) var lastWriteError = ""
    private var lastWriteErrno: Int32 = 5
    private var writeBackoffMs = 0
    /// A probing event's batch is being written (`flushProbe`).
    private var probing = false
    private var retryWritesAtMs: Int64 = 0

    /// A memory-only queue: same order and retry bookkeeping, nothing on disk.
    init(memoryFor sink: String, maxBytes: Int, log: Logger) {
        self.directory = nil
        self.sink = sink
        self.maxBytes = maxBytes
        self.segmentBytes = 0
        self.syncIntervalMs = 0
        self.windowLimit = .max
        self.log = log
        self.dead = DeadLetterStore(memoryLog: log)
    }

    /// Opens (or creates) the spool of `sink` under `directory` and reads back what it holds.
    init(directory: String, sink: String, maxBytes: Int, segmentBytes: Int = 8 << 20, syncIntervalMs: Int = 1000,
         windowLimit: Int = 4096, log: Logger) throws(IOError) {
        let dir = directory + "/" + sink
        self.directory = dir
        self.sink = sink
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        self.syncIntervalMs = syncIntervalMs
        self.windowLimit = max(1, windowLimit)
        self.log = log
        try SpoolDirectory.create(dir)
        self.dead = try DeadLetterStore(directory: dir, log: log)
        try recover()
        if currentSegment == nil { try startSegment(max(current + 1, 1)) }
        _ = refill()
    }

    func path(of segment: Int) -> String {
        var digits = String(segment)
        while digits.count < 8 { digits = "0" + digits }
        return (directory ?? "") + "/" + digits + ".log"
    }

    /// Bytes held (on disk, or in memory for a memory-only queue).
    var bytes: Int {
        guard directory != nil else { return hotBytes + dead.bytes }
        return closedBytes + (currentSegment?.size ?? 0) + pendingEnqueues.count + pendingState.count + dead.bytes
    }
    /// Items waiting (not dead): loaded ones and those on disk behind the window.
    var pendingCount: Int { bySeq.count + max(0, behind) }
    /// Dead letters.
    var deadCount: Int { dead.count }
    /// Whether nothing is held.
    var isEmpty: Bool { bySeq.isEmpty && behind <= 0 && dead.count == 0 }
    /// Whether new events are refused now (over `maxBytes`, or writes failing).
    var isFull: Bool { writeFailing || bytes + 1024 > maxBytes }
    /// Whether events wait on disk behind the window.
    var hasBacklog: Bool { behind > 0 || !skip.isEmpty }

    /// Loaded sequence numbers in spool order.
    var orderedSeqs: ArraySlice<Int> { order[orderHead...] }
    /// Loaded event ids in spool order.
    var orderedIDs: [String] { orderedSeqs.compactMap { bySeq[$0]?.id } }

    /// The item with sequence number `seq`.
    func item(_ seq: Int) -> Item? { bySeq[seq] }
    /// When item `seq` may be tried next (0: now); nil when it is gone.
    func nextAtMs(_ seq: Int) -> Int64? { bySeq[seq]?.nextAtMs }
    /// When item `seq` was spooled.
    func enqueuedAtMs(_ seq: Int) -> Int64? { bySeq[seq]?.enqueuedAtMs }
    /// The sequence number of event `id`, if it is loaded.
    func seq(of id: String) -> Int? { seqOf[id] }
    /// The loaded item of event `id`.
    func item(id: String) -> Item? { seqOf[id].flatMap { bySeq[$0] } }

    /// Appends an event unless it was spooled recently or the spool is full.
    func admit(_ d: Delivery, nowMs: Int64) throws(IOError) -> Admission {
        if seqOf[d.eventId] != nil || recentSet.contains(d.eventId) { return .duplicate }
        // While writes fail, one event per backoff interval probes whether they succeed again.
        let probe = writeFailing
        if probe && Timestamp.nowUnixMilliseconds() < retryWritesAtMs { return .full }
        var attributes: [String] = []
        for (k, v) in d.attributes { attributes.append(k); attributes.append(v) }
        let entry = SpoolEntry(id: d.eventId, tenant: d.tenant, conversation: d.conversationId ?? "", route: d.route,
                               type: d.type, hops: UInt32(d.hops), enqueuedAtMs: nowMs, attributes: attributes)
        let size = SpoolRecord.enqueueSize(entry, payloadCount: d.payload.count)
        // The record plus room for the records that will retire it.
        guard bytes + size + 64 <= maxBytes else { return .full }
        remember(d.eventId)
        guard directory != nil else {
            hotBytes += d.payload.count
            return .added(load(Item(entry: entry, position: 0, payloadOffset: 0, payloadLength: d.payload.count, payload: d.payload)))
        }
        if let seg = currentSegment, seg.size + pendingEnqueues.count + pendingState.count >= segmentBytes { try rotate() }
        if pendingEnqueues.count >= 1 << 20 { try flush() }
        if writeFailing && !probe { return .full }
        guard let seg = currentSegment else { throw IOError(errno: 5, function: "spool segment missing") }
        if pendingEnqueues.isEmpty { pendingBase = seg.size }
        let offset = pendingBase + pendingEnqueues.count
        SpoolRecord.encodeEnqueue(entry, payload: d.payload, into: &pendingEnqueues)
        dirty = true
        let position = SpoolPosition.make(segment: current, offset: offset)
        guard behind <= 0 && skip.isEmpty && bySeq.count < windowLimit else {
            behind += 1
            pendingBehind += 1
            if probe {
                do { try flushProbe() } catch { return .full }
            }
            return .spooled
        }
        var item = Item(entry: entry, position: position, payloadOffset: offset + size - d.payload.count, payloadLength: d.payload.count)
        if hotBytes + d.payload.count <= Self.hotLimit {
            item.payload = d.payload
            hotBytes += d.payload.count
        }
        let seq = load(item)
        pendingSeqs.append(seq)
        cursor = SpoolPosition.make(segment: current, offset: offset + size)
        if probe {
            do { try flushProbe() } catch { return .full }
        }
        return .added(seq)
    }

    /// Writes the batch holding a probing event (one admitted while writes fail); when it fails,
    /// the caller refuses (and counts) that event itself, `onUnwritten` reports only the others.
    private func flushProbe() throws(IOError) {
        probing = true
        defer { probing = false }
        try flush()
    }

    /// Appends an event; false (nothing written) when the spool is full. The same event again
    /// is spooled once.
    func enqueue(_ d: Delivery, nowMs: Int64) throws(IOError) -> Bool {
        try admit(d, nowMs: nowMs) != .full
    }

    /// Remembers a spooled id (replays of the last events are recognised, after a restart too).
    func remember(_ id: String) {
        recent.append(id)
        recentSet.insert(id)
        if recent.count > Self.recentLimit, let old = recent.popFirst() { recentSet.remove(old) }
    }

    /// Puts an item in the window; returns its sequence number.
    private func load(_ item: Item) -> Int {
        let seq = nextSeq
        nextSeq += 1
        bySeq[seq] = item
        seqOf[item.id] = seq
        order.append(seq)
        if directory != nil { segments[item.segment]?.live += 1 }
        return seq
    }

    /// Loads events from disk into the window while it has room, in spool order; returns their
    /// sequence numbers (the runner queues them).
    func refill() -> [Int] {
        guard directory != nil, hasBacklog, bySeq.count < windowLimit else { return [] }
        if !pendingEnqueues.isEmpty {
            do { try flush() } catch { return [] }
        }
        var loaded: [Int] = []
        while bySeq.count < windowLimit {
            let segNo = SpoolPosition.segment(cursor)
            guard let seg = segments[segNo] else {
                guard let next = segments.keys.filter({ $0 > segNo }).min() else { break }
                cursor = SpoolPosition.make(segment: next, offset: 0)
                continue
            }
            if scanner?.segment != segNo || scanner?.scanner.offset != SpoolPosition.offset(cursor) {
                do { scanner = (segNo, SpoolScanner(file: try seg.file(), from: SpoolPosition.offset(cursor))) } catch {
                    log.error("spool: cannot open a segment; its events are skipped", [("sink", sink), ("file", seg.path), ("error", error.description)])
                    guard let next = segments.keys.filter({ $0 > segNo }).min() else { break }
                    cursor = SpoolPosition.make(segment: next, offset: 0)
                    continue
                }
            }
            let found: (at: Int, record: SpoolRecord, length: Int)?
            let corruptBefore = scanner?.scanner.corrupt ?? 0
            do { found = try scanner?.scanner.next() } catch {
                log.error("spool read failed", [("sink", sink), ("file", seg.path), ("error", error.description)])
                break
            }
            if let s = scanner?.scanner, s.corrupt > corruptBefore, cursor < replayStart {
                // (Records after the checkpoint were counted by recovery already.)
                corruptRecords += s.corrupt - corruptBefore
                log.warn("spool: corrupt record skipped", [("sink", sink), ("file", seg.path), ("offset", String(s.goodEnd))])
            }
            guard let (at, record, length) = found else {
                // The end of this segment.
                if segNo == current {
                    // Caught up: whatever the count said, nothing is left behind.
                    cursor = SpoolPosition.make(segment: segNo, offset: scanner?.scanner.offset ?? seg.size)
                    behind = 0
                    skip.removeAll()
                    laterState.removeAll()
                    break
                }
                guard let next = segments.keys.filter({ $0 > segNo }).min() else { break }
                cursor = SpoolPosition.make(segment: next, offset: 0)
                continue
            }
            cursor = SpoolPosition.make(segment: segNo, offset: at + length)
            guard case .enqueue(let e) = record else { continue }
            let position = SpoolPosition.make(segment: segNo, offset: at)
            if skip.remove(position) != nil { continue }
            behind -= 1
            var item = Item(entry: e.entry, position: position, payloadOffset: at + length - e.payload.count, payloadLength: e.payload.count)
            if hotBytes + e.payload.count <= Self.hotLimit {
                item.payload = e.payload
                hotBytes += e.payload.count
            }
            if let state = laterState.removeValue(forKey: position) {
                item.attempts = state.attempts
                item.nextAtMs = state.nextAtMs
                item.lastError = state.reason
            }
            if let old = seqOf[item.id], bySeq[old] != nil {
                // The same event spooled twice (a replay no longer recognised): once is enough.
                SpoolRecord.done(position: position).encode(into: &pendingState)
                dirty = true
                continue
            }
            loaded.append(load(item))
        }
        if behind < 0 { behind = 0 }
        // The cursor left segments behind: those with nothing loaded can go.
        if SpoolPosition.segment(cursor) != lastCollectSegment {
            lastCollectSegment = SpoolPosition.segment(cursor)
            try? collect()
        }
        return loaded
    }

    /// Every pending item, loaded or not, in spool order (listing; nothing is loaded).
    func forEachPending(_ body: (Item) -> Void) throws(IOError) {
        for seq in orderedSeqs { if let item = bySeq[seq] { body(item) } }
        guard directory != nil, hasBacklog else { return }
        if !pendingEnqueues.isEmpty { try flush() }
        var segNo = SpoolPosition.segment(cursor)
        var offset = SpoolPosition.offset(cursor)
        while true {
            if let seg = segments[segNo] {
                var s = SpoolScanner(file: try seg.file(), from: offset)
                while let (at, record, length) = try s.next() {
                    guard case .enqueue(let e) = record else { continue }
                    let position = SpoolPosition.make(segment: segNo, offset: at)
                    if skip.contains(position) { continue }
                    var item = Item(entry: e.entry, position: position, payloadOffset: at + length - e.payload.count, payloadLength: e.payload.count)
                    if let state = laterState[position] {
                        item.attempts = state.attempts
                        item.nextAtMs = state.nextAtMs
                        item.lastError = state.reason
                    }
                    body(item)
                }
            }
            guard let next = segments.keys.filter({ $0 > segNo }).min() else { break }
            segNo = next
            offset = 0
        }
    }

    /// The delivery for a loaded item (its payload from memory, or read back from disk).
    func delivery(_ seq: Int) throws(IOError) -> Delivery? {
        guard let item = bySeq[seq] else { return nil }
        let payload: [UInt8]
        if let cached = item.payload {
            payload = cached
        } else if directory == nil {
            payload = []
        } else {
            if !pendingEnqueues.isEmpty { try flush() }
            guard let segment = segments[item.segment] else { return nil }
            payload = try segment.file().read(offset: item.payloadOffset, count: item.payloadLength)
        }
        return Self.delivery(item.entry, payload: payload)
    }

    static func delivery(_ entry: SpoolEntry, payload: [UInt8]) -> Delivery {
        var d = Delivery(eventId: entry.id, tenant: entry.tenant, route: entry.route, type: entry.type,
                         conversationId: entry.conversation.isEmpty ? nil : entry.conversation, payload: payload, hops: Int(entry.hops))
        var i = 0
        while i + 1 < entry.attributes.count {
            d.attributes.append((entry.attributes[i], entry.attributes[i + 1]))
            i += 2
        }
        return d
    }

    /// The delivery for event `id`.
    func delivery(_ id: String) throws(IOError) -> Delivery? {
        guard let seq = seqOf[id] else { return nil }
        return try delivery(seq)
    }

    /// The item was delivered (or dropped): it leaves the spool. Its memory is released even
    /// when the record cannot be written (kept for a later write).
    func remove(_ seq: Int, nowMs: Int64) throws(IOError) {
        guard let item = bySeq.removeValue(forKey: seq) else { return }
        seqOf.removeValue(forKey: item.id)
        if let payload = item.payload { hotBytes -= payload.count }
        compactOrder()
        guard directory != nil else { return }
        if let i = pendingSeqs.lastIndex(of: seq) {
            // Not written yet: it never needs to be.
            pendingSeqs.remove(at: i)
        }
        SpoolRecord.done(position: item.position).encode(into: &pendingState)
        dirty = true
        removalsSinceCheckpoint += 1
        if let seg = segments[item.segment] {
            seg.live -= 1
            if seg.live <= 0 && item.segment < SpoolPosition.segment(cursor) { try collect() }
        }
        if removalsSinceCheckpoint >= checkpointEvery { try? checkpoint(sync: false) }
        rotateIfLarge()
        releaseIfDrained()
    }

    /// While writes fail (a full disk), a spool whose every event is resolved lets its segments
    /// go at once, the current one included, and starts a fresh one: otherwise the current
    /// segment, which goes only after a rotation (and a rotation needs room), would keep the
    /// disk full after everything was delivered. The done records that could not be written go
    /// with their segment: nothing is left for them to resolve. A crash before the deletion
    /// redelivers (at least once); after it, recovery finds nothing pending, which is true.
    /// The dead letters (`dead.log`) are not touched.
    private func releaseIfDrained() {
        guard writeFailing, !closed, directory != nil, bySeq.isEmpty, behind <= 0, pendingEnqueues.isEmpty,
              segments.count > 1 || (currentSegment?.size ?? 0) > 0 else { return }
        let last = current
        for k in segments.keys.sorted() where k != last { drop(segment: k) }
        if let seg = segments.removeValue(forKey: last) {
            seg.close()
            SpoolDirectory.remove(path(of: last))
        }
        currentSegment = nil
        closedBytes = 0
        pendingState.removeAll()
        skip.removeAll()
        laterState.removeAll()
        scanner = nil
        cursor = 0
        log.info("spool drained while the disk was full: its segments were deleted", [("sink", sink)])
        // Room was just made: the next write is tried at once, not after the backoff.
        writeBackoffMs = 0
        retryWritesAtMs = 0
        // On failure the new segment stays current, empty, without its checkpoint (none is
        // needed: nothing is pending); `flush` retries writing on the backoff.
        try? startSegment(last + 1)
    }

    /// Event `id` leaves the spool.
    func remove(_ id: String, nowMs: Int64) throws(IOError) {
        guard let seq = seqOf[id] else { return }
        try remove(seq, nowMs: nowMs)
    }

    /// A failed attempt: record when to try again. The schedule holds in memory even when the
    /// record cannot be written.
    func scheduleRetry(_ seq: Int, attempts: UInt32, nextAtMs: Int64, reason: String, nowMs: Int64) throws(IOError) {
        guard let item = bySeq[seq] else { return }
        bySeq[seq]?.attempts = attempts
        bySeq[seq]?.nextAtMs = nextAtMs
        bySeq[seq]?.lastError = reason
        guard directory != nil else { return }
        SpoolRecord.retry(position: item.position, attempts: attempts, nextAtMs: nextAtMs, reason: reason).encode(into: &pendingState)
        dirty = true
        rotateIfLarge()
    }

    /// State records alone fill segments too (a drain writes one per event): rotate on them as
    /// on events, so that a drained spool keeps one segment, not every removal it recorded.
    private func rotateIfLarge() {
        guard !writeFailing, let seg = currentSegment, seg.size + pendingEnqueues.count + pendingState.count >= segmentBytes else { return }
        try? rotate()
    }

    /// A failed attempt of event `id`.
    func scheduleRetry(_ id: String, attempts: UInt32, nextAtMs: Int64, reason: String, nowMs: Int64) throws(IOError) {
        guard let seq = seqOf[id] else { return }
        try scheduleRetry(seq, attempts: attempts, nextAtMs: nextAtMs, reason: reason, nowMs: nowMs)
    }

    /// Gives up on an item: it moves to the dead letters (with its attempts and last error)
    /// until revived or dropped. When the dead letter cannot be written, the item stays queued.
    func deadLetter(_ seq: Int, attempts: UInt32? = nil, reason: String, nowMs: Int64) throws(IOError) {
        guard var item = bySeq[seq] else { return }
        if let attempts { item.attempts = attempts }
        item.lastError = reason
        bySeq[seq] = item
        let payload: [UInt8]
        if let p = item.payload { payload = p } else { payload = (try delivery(seq))?.payload ?? [] }
        do {
            try dead.add(item.entry, payload: payload, attempts: item.attempts, reason: reason)
        } catch {
            noteWriteError(error)
            throw error
        }
        try remove(seq, nowMs: nowMs)
    }

    /// Gives up on event `id`.
    func deadLetter(_ id: String, attempts: UInt32? = nil, reason: String, nowMs: Int64) throws(IOError) {
        guard let seq = seqOf[id] else { return }
        try deadLetter(seq, attempts: attempts, reason: reason, nowMs: nowMs)
    }

    /// Puts dead letters back in line (all when `ids` is empty), as new events with their
    /// attempts starting again; returns what `admit` did with each.
    func revive(ids: [String], nowMs: Int64) throws(IOError) -> [Admission] {
        let wanted = Set(ids)
        var letters: [DeadLetterStore.Letter] = []
        try dead.forEach { l in
            if wanted.isEmpty || wanted.contains(l.entry.id) { letters.append(l) }
            return true
        }
        var out: [Admission] = []
        var revived: [Int] = []
        for l in letters {
            recentSet.remove(l.entry.id)
            if let seq = seqOf[l.entry.id], bySeq[seq] != nil {
                revived.append(l.key)
                continue
            }
            var d = Self.delivery(l.entry, payload: l.payload)
            d.eventId = l.entry.id
            let a = try admit(d, nowMs: nowMs)
            if a == .full { break }
            out.append(a)
            revived.append(l.key)
        }
        try flush()
        try dead.remove(revived)
        return out
    }

    /// Drops dead letters (all when `ids` is empty); returns how many.
    func dropDead(ids: [String]) throws(IOError) -> Int {
        let wanted = Set(ids)
        var keys: [Int] = []
        try dead.forEach { l in
            if wanted.isEmpty || wanted.contains(l.entry.id) { keys.append(l.key) }
            return true
        }
        try dead.remove(keys)
        return keys.count
    }

    /// Flushes to stable storage if anything was written since the last flush; a failed write is
    /// tried again on the next call.
    func syncIfDirty(nowMs: Int64, force: Bool = false) {
        if writeFailing, pendingState.isEmpty, pendingEnqueues.isEmpty, let directory,
           Timestamp.nowUnixMilliseconds() >= retryWritesAtMs, (SpoolDirectory.freeBytes(directory) ?? 0) >= 256 << 10 {
            // Nothing waits to be written, and the file system has room again.
            writeFailing = false
            writeBackoffMs = 0
            log.info("spool writes succeed again; new events are accepted", [("sink", sink)])
        }
        guard dirty, directory != nil else { return }
        do {
            try flush()
            guard force || syncIntervalMs == 0 || nowMs - lastSyncMs >= Int64(syncIntervalMs) else { return }
            try currentSegment?.file().sync()
            dirty = false
            lastSyncMs = nowMs
        } catch {
            // Counted and logged by `flush`; a drained spool frees its space now.
            releaseIfDrained()
        }
    }

    deinit { try? flush() }

    /// Appends what this loop turn wrote to the segment file: the enqueue records in one write,
    /// then the state records. Enqueues that cannot be written are refused (their events were
    /// never handed to a sink); state records are kept and written by a later call.
    func flush() throws(IOError) {
        guard directory != nil, let seg = currentSegment, !(pendingEnqueues.isEmpty && pendingState.isEmpty) else { return }
        if writeFailing {
            // Back off while writes fail: 250 ms, doubling up to 5 s.
            let now = Timestamp.nowUnixMilliseconds()
            guard now >= retryWritesAtMs else { throw IOError(errno: lastWriteErrno, function: "spool write (backing off)") }
        }
        let wroteEnqueues = !pendingEnqueues.isEmpty
        if !pendingEnqueues.isEmpty {
            do {
                let file = try seg.file()
                let start = try file.append(pendingEnqueues)
                seg.size = file.size
                if start != pendingBase {
                    // Another writer appended meanwhile (a retiring runner during a reload).
                    let shift = start - pendingBase
                    for seq in pendingSeqs {
                        bySeq[seq]?.position += shift
                        bySeq[seq]?.payloadOffset += shift
                    }
                    if SpoolPosition.segment(cursor) == current && SpoolPosition.offset(cursor) > pendingBase { cursor += shift }
                }
                pendingSeqs.removeAll(keepingCapacity: true)
                pendingBehind = 0
                pendingEnqueues.removeAll(keepingCapacity: pendingEnqueues.capacity <= 4 << 20)
            } catch {
                refuseUnwritten(error)
                throw error
            }
        }
        if !pendingState.isEmpty {
            do {
                let file = try seg.file()
                try file.append(pendingState)
                seg.size = file.size
                pendingState.removeAll(keepingCapacity: pendingState.capacity <= 4 << 20)
            } catch {
                noteWriteError(error)
                throw error
            }
        }
        // A small state record may fit where an event does not: the spool counts as writable again
        // when an event was written, or when the file system has room.
        if writeFailing && (wroteEnqueues || (SpoolDirectory.freeBytes(directory ?? "/") ?? 0) >= 256 << 10) {
            writeFailing = false
            writeBackoffMs = 0
            log.info("spool writes succeed again; new events are accepted", [("sink", sink)])
        }
    }

    /// The enqueues of this turn could not be written: their events leave (refused, counted).
    private func refuseUnwritten(_ error: IOError) {
        noteWriteError(error)
        var lost = 0
        for seq in pendingSeqs {
            guard let item = bySeq.removeValue(forKey: seq) else { continue }
            seqOf.removeValue(forKey: item.id)
            recentSet.remove(item.id)
            if let payload = item.payload { hotBytes -= payload.count }
            segments[item.segment]?.live -= 1
            lost += 1
        }
        // Events spooled behind the window in this turn are gone with the batch.
        behind = max(0, behind - pendingBehind)
        lost += pendingBehind
        pendingBehind = 0
        compactOrder()
        if SpoolPosition.segment(cursor) == current && SpoolPosition.offset(cursor) > pendingBase {
            cursor = SpoolPosition.make(segment: current, offset: pendingBase)
        }
        pendingSeqs.removeAll()
        pendingEnqueues.removeAll()
        unwritten += lost
        let others = probing ? lost - 1 : lost
        if others > 0 { onUnwritten?(others) }
        log.error("spool write failed: events not accepted", [("sink", sink), ("events", String(lost)), ("error", error.description)])
    }

    private func noteWriteError(_ error: IOError) {
        writeErrors += 1
        onWriteError?()
        lastWriteError = error.description
        lastWriteErrno = error.errno
        writeBackoffMs = min(5000, max(250, writeBackoffMs * 2))
        retryWritesAtMs = Timestamp.nowUnixMilliseconds() + Int64(writeBackoffMs)
        if !writeFailing {
            writeFailing = true
            log.error("spool write failed; new events are refused until writes succeed (retried every second)",
                      [("sink", sink), ("error", error.description)])
        }
    }

    /// Starts segment `number` with a checkpoint as its first record.
    private func startSegment(_ number: Int) throws(IOError) {
        let file = try SpoolFile(path: path(of: number))
        let seg = Segment(file: file)
        segments[number] = seg
        let previous = current
        let previousCursor = cursor
        let previousSize = currentSegment?.size ?? 0
        current = number
        currentSegment = seg
        closedBytes += previousSize
        if file.size == 0 {
            // Nothing left to load before it: the cursor moves on, and older segments can go.
            if cursor == 0 || !hasBacklog { cursor = SpoolPosition.make(segment: number, offset: 0) }
            do { try checkpoint(sync: false) } catch {
                // Stay on the previous segment.
                if previous != 0, let old = segments[previous] {
                    segments.removeValue(forKey: number)
                    SpoolDirectory.remove(path(of: number))
                    current = previous
                    currentSegment = old
                    cursor = previousCursor
                    closedBytes -= previousSize
                }
                throw error
            }
        }
    }

    private func rotate() throws(IOError) {
        guard !closed else { return }
        do {
            try flush()
            try currentSegment?.file().sync()
            try startSegment(current + 1)
        } catch {
            noteWriteError(error)
            return
        }
        try collect()
    }

    /// Writes a checkpoint: the cursor, how many events are behind it, the window's positions
    /// and retry state.
    func checkpoint(sync: Bool) throws(IOError) {
        guard directory != nil, !closed else { return }
        var items: [SpoolRecord.CheckpointItem] = []
        items.reserveCapacity(bySeq.count)
        for seq in orderedSeqs {
            guard let item = bySeq[seq] else { continue }
            items.append(.init(position: item.position, attempts: item.attempts, nextAtMs: item.nextAtMs, reason: item.lastError))
        }
        try flush()
        SpoolRecord.checkpoint(.init(cursor: cursor, behind: max(0, behind), items: items)).encode(into: &pendingState)
        dirty = true
        try flush()
        if sync { try currentSegment?.file().sync() }
        removalsSinceCheckpoint = 0
    }

    /// Deletes the segments that hold nothing live: wholly before the cursor, no loaded item.
    /// A checkpoint written (and synced) first covers what they resolved; when it cannot be
    /// written (a full disk), the oldest ones still go, which needs no checkpoint: nothing older
    /// is left for their records to resolve.
    private func collect() throws(IOError) {
        guard !closed else { return }
        let cursorSegment = SpoolPosition.segment(cursor)
        let gone = segments.filter { $0.key != current && $0.key < cursorSegment && $0.value.live <= 0 }.map(\.key).sorted()
        guard !gone.isEmpty else { return }
        var covered = true
        do { try checkpoint(sync: true) } catch { covered = false }
        let oldestKept = segments.keys.filter { !gone.contains($0) }.min() ?? .max
        for k in gone where covered || k < oldestKept {
            drop(segment: k)
        }
    }

    func drop(segment: Int) {
        guard let gone = segments.removeValue(forKey: segment) else { return }
        gone.close()
        if segment != current { closedBytes -= gone.size }
        SpoolDirectory.remove(path(of: segment))
    }

    /// A retired runner's spool: no more rotations, deletions or checkpoints.
    func close() {
        try? flush()
        closed = true
    }

    private func compactOrder() {
        while orderHead < order.count && bySeq[order[orderHead]] == nil { orderHead += 1 }
        if orderHead == order.count {
            order.removeAll(keepingCapacity: order.count <= 4096)
            orderHead = 0
        } else if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }

    // Recovery (SinkSpool+Recovery.swift) uses these.
    func setRecovered(items: [Item]) {
        for item in items.sorted(by: { $0.position < $1.position }) { _ = load(item) }
    }

    func countCorrupt(_ n: Int = 1) { corruptRecords += n }
}
