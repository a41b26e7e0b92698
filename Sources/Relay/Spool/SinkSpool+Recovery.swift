import Transport

extension SinkSpool {
    /// Reads back the spool from its last checkpoint: the window the checkpoint lists, then every
    /// record after it (new events, removals, retries), so memory and time stay bounded whatever
    /// the backlog. A torn tail is cut off, a corrupt record skipped, each with one log line. A
    /// version 1 spool (no checkpoints) is migrated first.
    func recover() throws(IOError) {
        guard let directory else { return }
        let names: [String]
        switch DirectoryReader.list(path: directory) {
        case .success(let n): names = n
        case .failure(let e): throw e
        }
        let sequences = names.compactMap { name -> Int? in
            guard name.hasSuffix(".log"), name.count == 12 else { return nil }
            return Int(name.dropLast(4))
        }.sorted()
        guard let newest = sequences.last else { return }
        for n in sequences { segments[n] = Segment(path: path(of: n), size: SpoolDirectory.fileSize(path(of: n)) ?? 0) }
        current = newest
        currentSegment = segments[newest]

        // The last checkpoint, newest segment first.
        var base: (segment: Int, end: Int, checkpoint: SpoolRecord.Checkpoint)?
        var legacy = false
        for n in sequences.reversed() {
            var s = SpoolScanner(file: try segments[n]!.file(), from: 0)
            while let (at, record, length) = try s.next() {
                switch record {
                case .checkpoint(let c): base = (n, at + length, c)
                default: if s.lastWasLegacy { legacy = true }
                }
            }
            if base != nil { break }
        }
        if base == nil && legacy { return try migrateVersion1(sequences) }

        var window: [Int: SpoolRecord.CheckpointItem] = [:]
        let start: (segment: Int, offset: Int)
        if let base {
            for i in base.checkpoint.items { window[i.position] = i }
            cursor = base.checkpoint.cursor
            behind = base.checkpoint.behind
            start = (base.segment, base.end)
            replayStart = SpoolPosition.make(segment: base.segment, offset: base.end)
        } else {
            cursor = SpoolPosition.make(segment: sequences[0], offset: 0)
            start = (sequences[0], 0)
        }
        var corrupt = 0
        for n in sequences where n >= start.segment {
            var s = SpoolScanner(file: try segments[n]!.file(), from: n == start.segment ? start.offset : 0)
            while let (_, record, _) = try s.next() {
                switch record {
                case .enqueue(let e):
                    behind += 1
                    remember(e.entry.id)
                case .done(let p):
                    if window.removeValue(forKey: p) == nil && p >= cursor && skip.insert(p).inserted { behind -= 1 }
                case .retry(let p, let attempts, let next, let reason):
                    if window[p] != nil {
                        window[p]?.attempts = attempts; window[p]?.nextAtMs = next; window[p]?.reason = reason
                    } else if p >= cursor {
                        laterState[p] = (attempts, next, reason)
                    }
                default:
                    break
                }
            }
            corrupt += s.corrupt
            if s.corrupt > 0 {
                log.warn("spool: torn or corrupt records skipped", [("sink", sink), ("file", path(of: n)), ("records", String(s.corrupt))])
            }
            if n == newest && s.tornTail {
                let file = try segments[n]!.file()
                try file.truncate(to: s.goodEnd)
                segments[n]!.size = file.size
            }
        }
        countCorrupt(corrupt)

        // The window the checkpoint listed, minus what was resolved after it.
        var items: [Item] = []
        for (position, state) in window.sorted(by: { $0.key < $1.key }) {
            guard let seg = segments[SpoolPosition.segment(position)] else { continue }
            var s = SpoolScanner(file: try seg.file(), from: SpoolPosition.offset(position))
            guard let (at, record, length) = try s.next(), at == SpoolPosition.offset(position), case .enqueue(let e) = record else {
                log.warn("spool: an event listed by the checkpoint is unreadable; skipped", [("sink", sink), ("file", seg.path),
                                                                                             ("offset", String(SpoolPosition.offset(position)))])
                countCorrupt()
                continue
            }
            items.append(Item(entry: e.entry, position: position, payloadOffset: at + length - e.payload.count, payloadLength: e.payload.count,
                              attempts: state.attempts, nextAtMs: state.nextAtMs, lastError: state.reason))
        }
        setRecovered(items: items)
        closedBytes = segments.filter { $0.key != current }.reduce(0) { $0 + $1.value.size }
        if behind < 0 { behind = 0 }
        // Segments wholly before the cursor with nothing loaded: the checkpoint covers them.
        let cursorSegment = SpoolPosition.segment(cursor)
        for (n, seg) in segments where n < cursorSegment && n != current && seg.live <= 0 { drop(segment: n) }
        if corruptRecords > 0 || !isEmpty {
            log.info("spool recovered", [("sink", sink), ("pending", String(pendingCount)), ("dead", String(deadCount)),
                                         ("corrupt_records", String(corruptRecords))])
        }
    }

    /// A version 1 spool: read it whole (it kept its state by event id), write what is live as
    /// one new version 2 segment (to a temporary file, synced, then renamed: a crash before the
    /// rename leaves the old spool to migrate again) and the dead letters to `dead.log`, then
    /// delete the old segments.
    private func migrateVersion1(_ sequences: [Int]) throws(IOError) {
        struct Old {
            var entry: SpoolEntry
            var payload: [UInt8]
            var attempts: UInt32 = 0
            var nextAtMs: Int64 = 0
            var reason = ""
            var dead = false
        }
        var items: [Old] = []
        var index: [String: Int] = [:]
        var corrupt = 0
        for n in sequences {
            var s = SpoolScanner(file: try segments[n]!.file(), from: 0)
            while let (_, record, _) = try s.next() {
                switch record {
                case .enqueue(let e):
                    // The same id spooled twice: the later record wins, at the first one's place.
                    if let i = index[e.entry.id] { items[i] = Old(entry: e.entry, payload: e.payload) } else {
                        index[e.entry.id] = items.count
                        items.append(Old(entry: e.entry, payload: e.payload))
                    }
                case .legacyDone(let id):
                    if let i = index.removeValue(forKey: id) { items[i].entry.id = "" }
                case .legacyRetry(let id, let attempts, let next, let reason):
                    if let i = index[id] { items[i].attempts = attempts; items[i].nextAtMs = next; items[i].reason = reason }
                case .legacyDead(let id, let reason):
                    if let i = index[id] { items[i].dead = true; items[i].reason = reason }
                case .legacyRevive(let id):
                    if let i = index[id] { items[i].dead = false; items[i].attempts = 0; items[i].nextAtMs = 0 }
                default:
                    break
                }
            }
            corrupt += s.corrupt
        }
        let live = items.filter { !$0.entry.id.isEmpty }
        try dead.replace(with: live.filter(\.dead).map {
            DeadLetterStore.Letter(key: 0, entry: $0.entry, attempts: $0.attempts, reason: $0.reason, payload: $0.payload)
        })
        let number = (sequences.last ?? 0) + 1
        var bytes: [UInt8] = []
        let pending = live.filter { !$0.dead }
        let head = SpoolRecord.checkpoint(.init(cursor: 0, behind: pending.count, items: []))
        head.encode(into: &bytes)
        // The cursor is the first event, right after the checkpoint (whose size does not depend on it).
        let cursorAt = bytes.count
        bytes.removeAll()
        SpoolRecord.checkpoint(.init(cursor: SpoolPosition.make(segment: number, offset: cursorAt), behind: pending.count, items: [])).encode(into: &bytes)
        var retries: [UInt8] = []
        for p in pending {
            let at = bytes.count
            SpoolRecord.encodeEnqueue(p.entry, payload: p.payload, into: &bytes)
            if p.attempts > 0 || p.nextAtMs > 0 || !p.reason.isEmpty {
                SpoolRecord.retry(position: SpoolPosition.make(segment: number, offset: at), attempts: p.attempts, nextAtMs: p.nextAtMs,
                                  reason: p.reason).encode(into: &retries)
            }
        }
        bytes += retries
        let tmp = path(of: number) + ".tmp"
        SpoolDirectory.remove(tmp)
        do {
            let file = try SpoolFile(path: tmp)
            try file.append(bytes)
            try file.sync()
            try SpoolDirectory.rename(tmp, to: path(of: number))
        } catch {
            SpoolDirectory.remove(tmp)
            throw error
        }
        for n in sequences { drop(segment: n) }
        log.info("spool migrated from format version 1", [("sink", sink), ("pending", String(pending.count)),
                                                          ("dead", String(live.count - pending.count)), ("corrupt_records", String(corrupt))])
        // Read back as any version 2 spool.
        segments.removeAll()
        current = 0
        currentSegment = nil
        cursor = 0
        behind = 0
        try recover()
        countCorrupt(corrupt)
    }
}
