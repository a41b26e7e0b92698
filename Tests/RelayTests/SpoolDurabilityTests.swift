import Diagnostics
import Foundation
import Rules
import Testing
import TestSupport
import Transport
@testable import Relay

#if canImport(Glibc)
import Glibc
#endif

/// The spool's bookkeeping on disk: bounded memory behind a backlog, nothing revived after a
/// restart (whatever was compacted), a crash at any write, a full disk, version 1 spools.
@Suite(.serialized) struct SpoolDurabilityTests {
    /// Quiet: the crash test fails thousands of writes on purpose.
    struct Quiet: LogSink { func write(line: [UInt8]) {} }
    let log = Logger(level: .error, sink: Quiet())

    func delivery(_ id: String, conversation: String = "c", payload: String = "{}") -> Delivery {
        Delivery(eventId: id, tenant: "org", route: "r", type: "message:new", conversationId: conversation,
                 payload: Array(payload.utf8), hops: 0)
    }

    /// Every pending id of a spool, loaded or not, in spool order.
    func pendingIDs(_ s: SinkSpool) throws -> [String] {
        var ids: [String] = []
        try s.forEachPending { ids.append($0.id) }
        return ids
    }

    /// Issue 12, item 1: one event dead-lettered, 90 large events retried once then delivered,
    /// 90 more delivered, restart. The done records of the later segments used to vanish with
    /// them while the dead letter kept the first segment alive: 84 events came back.
    @Test func aRestartAfterADeadLetterRevivesNothing() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-revive")
        let big = "{\"x\":\"" + String(repeating: "b", count: 10_000) + "\"}"
        do {
            let s = try SinkSpool(directory: dir, sink: "hooks", maxBytes: 64 << 20, segmentBytes: 64 << 10, log: log)
            _ = try s.enqueue(delivery("poison", payload: big), nowMs: 1)
            try s.deadLetter("poison", attempts: 1, reason: "HTTP 400", nowMs: 2)
            for i in 0..<90 {
                _ = try s.enqueue(delivery("a\(i)", conversation: "c\(i % 7)", payload: big), nowMs: 3)
                try s.flush()
                try s.scheduleRetry("a\(i)", attempts: 1, nextAtMs: 10, reason: "HTTP 500", nowMs: 4)
            }
            for i in 0..<90 { try s.remove("a\(i)", nowMs: 5) }
            for i in 0..<90 {
                _ = try s.enqueue(delivery("b\(i)", payload: big), nowMs: 6)
                try s.flush()
                try s.remove("b\(i)", nowMs: 7)
            }
            s.syncIfDirty(nowMs: 8, force: true)
        }
        let s = try SinkSpool(directory: dir, sink: "hooks", maxBytes: 64 << 20, segmentBytes: 64 << 10, log: log)
        let revived = try pendingIDs(s)
        #expect(s.pendingCount == 0, "revived: \(revived)")
        #expect(s.deadCount == 1)
        #expect(try s.dead.all().map(\.entry.id) == ["poison"])
        // The segments the delivered events filled are gone, not kept alive by the dead letter.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/hooks").filter { $0.hasSuffix(".log") && $0 != "dead.log" }
        #expect(files.count <= 2, "\(files)")
    }

    /// A backlog far larger than the window: memory holds the window only, the rest is read from
    /// disk as the sink drains, each conversation in its order.
    @Test func aBacklogWaitsOnDiskAndDrainsInOrder() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-backlog")
        let loop = try EventLoop()
        let sink = HandSink(capacity: 4)
        let spool = try SinkSpool(directory: dir, sink: "hand", maxBytes: 64 << 20, segmentBytes: 16 << 10, windowLimit: 16, log: log)
        let settings = SinkSettings(name: "hand", kind: .pipe(PipeSinkSettings(command: ["true"], per: .route, format: .json)),
                                    location: SourceLocation(file: "test", line: 1, column: 1), retry: SinkSettings.defaultRetry)
        let r = SinkRunner(settings: settings, sink: sink, spool: spool, loop: loop, log: log, nowMs: { Timestamp.nowUnixMilliseconds() })
        let total = 600
        for i in 0..<total { r.enqueue(delivery("e\(i)", conversation: "c\(i % 5)", payload: "{\"n\":\(i)}")) }
        #expect(spool.pendingCount == total)
        #expect(spool.bySeq.count <= 16)
        var order: [String: [Int]] = [:]
        var maxLoaded = 0
        var done = 0
        while done < total {
            try SinkRunnerTests().spin(loop) { !sink.started.isEmpty }
            guard !sink.started.isEmpty else { break }
            let batch = sink.started
            sink.started.removeAll()
            for s in batch {
                let n = Int(s.id.dropFirst())!
                order["c\(n % 5)", default: []].append(n)
                s.done(.delivered)
                done += 1
            }
            maxLoaded = max(maxLoaded, spool.bySeq.count)
        }
        #expect(done == total)
        #expect(maxLoaded <= 16)
        for (_, ns) in order { #expect(ns == ns.sorted()) }
        try SinkRunnerTests().spin(loop) { spool.pendingCount == 0 }
        #expect(spool.pendingCount == 0)
        // Everything delivered: the segments went with it.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/hand").filter { $0.hasSuffix(".log") }
        #expect(files.count <= 2, "\(files)")
    }

    /// After a restart, exactly what was not delivered is pending, in its order, whatever was
    /// delivered out of order and wherever the checkpoints fell.
    @Test func aRestartKeepsExactlyWhatIsLeft() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-exact")
        var expected: [String] = []
        var keptRetried: Set<String> = []
        var rng = SystemRandomNumberGenerator()
        do {
            let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 64 << 20, segmentBytes: 4 << 10, windowLimit: 8, log: log)
            s.checkpointEvery = 7
            for i in 0..<300 { _ = try s.enqueue(delivery("e\(i)", payload: "{\"n\":\(i),\"pad\":\"\(String(repeating: "p", count: 60))\"}"), nowMs: 1) }
            var removed: Set<String> = []
            var retried: Set<String> = []
            for step in 0..<170 {
                _ = s.refill()
                let loaded = s.orderedSeqs.filter { s.item($0) != nil }
                let seq = loaded[Int.random(in: 0..<loaded.count, using: &rng)]
                if step % 5 == 0 {
                    retried.insert(s.item(seq)!.id)
                    try s.scheduleRetry(seq, attempts: 2, nextAtMs: 99, reason: "HTTP 503", nowMs: 2)
                } else {
                    removed.insert(s.item(seq)!.id)
                    try s.remove(seq, nowMs: 2)
                }
            }
            // And a few loaded ones retried last (they stay).
            for seq in s.orderedSeqs.filter({ s.item($0) != nil }).prefix(3) {
                retried.insert(s.item(seq)!.id)
                try s.scheduleRetry(seq, attempts: 2, nextAtMs: 99, reason: "HTTP 503", nowMs: 2)
            }
            keptRetried = retried.subtracting(removed)
            expected = (0..<300).map { "e\($0)" }.filter { !removed.contains($0) }
            try s.flush()
        }
        let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 64 << 20, segmentBytes: 4 << 10, windowLimit: 8, log: log)
        #expect(s.pendingCount == expected.count)
        #expect(try pendingIDs(s) == expected)
        let all = try SinkSpool(directory: dir, sink: "p", maxBytes: 64 << 20, segmentBytes: 4 << 10, windowLimit: .max, log: log)
        _ = all.refill()
        #expect(all.orderedIDs == expected)
        #expect(!keptRetried.isEmpty)
        for id in keptRetried { #expect(all.item(id: id)?.attempts == 2 && all.item(id: id)?.lastError == "HTTP 503", "\(id)") }
    }

    /// `kill -9` at any write, including in the middle of compaction (a checkpoint, a segment
    /// deletion, the dead letters rewritten): after the restart, nothing whose removal reached the
    /// disk is back, and nothing that reached the disk and was not removed is missing.
    @Test func aCrashAtAnyWriteLosesNothingAndRevivesNothing() throws {
        let base = try RepoPaths.temporaryDirectory("spool-crash")
        var crashes = 0
        for crashAt in stride(from: 1, through: 400, by: 3) {
            let dir = base + "/\(crashAt)"
            var writes = 0
            var dead = false
            SpoolFile.writeFault = SpoolWriteFault { path in
                guard path.hasPrefix(dir) else { return nil }
                writes += 1
                if writes >= crashAt { dead = true }
                return dead ? EIO : nil
            }
            var durablyRemoved: Set<String> = []
            var durablyEnqueued: Set<String> = []
            var removedSoFar: Set<String> = []
            var enqueuedSoFar: Set<String> = []
            do {
                let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 64 << 20, segmentBytes: 2 << 10, windowLimit: 6, log: log)
                s.checkpointEvery = 5
                var n = 0
                while !dead && n < 200 {
                    let id = "e\(n)"
                    if try s.enqueue(delivery(id, payload: "{\"pad\":\"\(String(repeating: "z", count: 90))\"}"), nowMs: 1) { enqueuedSoFar.insert(id) }
                    n += 1
                    _ = s.refill()
                    if n % 3 == 0, let seq = s.orderedSeqs.first(where: { s.item($0) != nil }), let item = s.item(seq) {
                        if n % 9 == 0 {
                            try? s.deadLetter(seq, attempts: 1, reason: "HTTP 400", nowMs: 2)
                        } else {
                            try? s.remove(seq, nowMs: 2)
                        }
                        if s.item(seq) == nil { removedSoFar.insert(item.id) }
                    }
                    if n % 20 == 0, let before = try? s.dead.all().map(\.entry.id), (try? s.revive(ids: [], nowMs: 3)) != nil {
                        removedSoFar.subtract(before)
                    }
                    do {
                        try s.flush()
                        if !dead {
                            durablyRemoved = removedSoFar
                            durablyEnqueued = enqueuedSoFar
                        }
                    } catch {}
                }
                if dead { crashes += 1 }
            } catch {
                // Opening failed at the crash point: nothing was spooled.
            }
            SpoolFile.writeFault = nil
            let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 64 << 20, segmentBytes: 2 << 10, windowLimit: 6, log: log)
            let pending = Set(try pendingIDs(s))
            let deadIDs = Set(try s.dead.all().map(\.entry.id))
            let revived = pending.intersection(durablyRemoved.subtracting(deadIDs))
            #expect(revived.isEmpty, "crash at write \(crashAt): revived \(revived.sorted())")
            let lost = durablyEnqueued.subtracting(removedSoFar).subtracting(pending).subtracting(deadIDs)
            #expect(lost.isEmpty, "crash at write \(crashAt): lost \(lost.sorted())")
        }
        SpoolFile.writeFault = nil
        #expect(crashes > 100)
    }

    /// Issue 12, item 2: a full disk is a state. Retries keep their schedule, nothing is
    /// dead-lettered for want of space, new events are refused (and counted) while it lasts, and
    /// delivery resumes by itself when space returns.
    @Test func aFullDiskIsAStateNotALoop() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-full")
        var full = false
        SpoolFile.writeFault = SpoolWriteFault { path in path.hasPrefix(dir) && full ? ENOSPC : nil }
        defer { SpoolFile.writeFault = nil }
        let loop = try EventLoop()
        let sink = HandSink(capacity: 8)
        let spool = try SinkSpool(directory: dir, sink: "hand", maxBytes: 64 << 20, log: log)
        let settings = SinkSettings(name: "hand", kind: .pipe(PipeSinkSettings(command: ["true"], per: .route, format: .json)),
                                    location: SourceLocation(file: "test", line: 1, column: 1),
                                    retry: [.zero, .milliseconds(200), .milliseconds(200)])
        let r = SinkRunner(settings: settings, sink: sink, spool: spool, loop: loop, log: log, nowMs: { Timestamp.nowUnixMilliseconds() })
        for i in 0..<3 { r.enqueue(delivery("e\(i)", conversation: "c\(i)")) }
        try SinkRunnerTests().spin(loop) { sink.started.count == 3 }
        full = true
        // A retry whose record cannot be written still waits for its turn.
        sink.started[0].done(.retry(reason: "HTTP 503", afterMs: nil))
        let retryAt = spool.item(id: "e0")?.nextAtMs ?? 0
        #expect(retryAt > 0)
        // A refusal whose dead letter cannot be written is not lost, and not dead-lettered.
        sink.started[1].done(.failed(reason: "HTTP 400"))
        sink.started[2].done(.delivered)
        r.enqueue(delivery("refused"))
        try SinkRunnerTests().spin(loop) { sink.started.count == 4 }
        #expect(sink.started.count == 4 && sink.started[3].id == "e0")
        #expect(Timestamp.nowUnixMilliseconds() >= retryAt)
        #expect(spool.deadCount == 0)
        #expect(spool.item(id: "e1") != nil)
        #expect(spool.isFull && spool.writeFailing && spool.writeErrors > 0)
        #expect(r.refused >= 1 && spool.item(id: "refused") == nil)
        // Space returns: writes resume by themselves (the once-a-second tick), new events are
        // accepted, and everything is delivered.
        full = false
        sink.started[3].done(.delivered)
        try SinkRunnerTests().spin(loop) {
            r.syncTick()
            return !spool.writeFailing
        }
        #expect(!spool.isFull)
        r.enqueue(delivery("later", conversation: "z"))
        try SinkRunnerTests().spin(loop, ms: 5000) { sink.started.contains { $0.id == "later" } && sink.started.contains { $0.id == "e1" } }
        #expect(sink.started.contains { $0.id == "later" })
        #expect(sink.started.contains { $0.id == "e1" })
    }

    /// A spool written by an older daemon (format version 1) is read and migrated, state and all.
    @Test func aVersionOneSpoolIsMigrated() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-v1")
        try FileManager.default.createDirectory(atPath: dir + "/p", withIntermediateDirectories: true)
        var bytes: [UInt8] = []
        func entry(_ id: String) -> SpoolEntry {
            SpoolEntry(id: id, tenant: "org", conversation: "c", route: "r", type: "message:new", hops: 0, enqueuedAtMs: 5)
        }
        for id in ["e1", "e2", "e3", "e4"] {
            SpoolRecord.enqueue(.init(entry: entry(id), payload: Array("{\"id\":\"\(id)\"}".utf8))).encodeLegacy(into: &bytes)
        }
        SpoolRecord.legacyDone(id: "e1").encodeLegacy(into: &bytes)
        SpoolRecord.legacyRetry(id: "e2", attempts: 2, nextAtMs: 500, reason: "HTTP 503").encodeLegacy(into: &bytes)
        SpoolRecord.legacyDead(id: "e3", reason: "HTTP 400").encodeLegacy(into: &bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/p/00000001.log"))
        for _ in 0..<2 {
            let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, log: log)
            #expect(try pendingIDs(s) == ["e2", "e4"])
            #expect(s.item(id: "e2")?.attempts == 2 && s.item(id: "e2")?.lastError == "HTTP 503")
            #expect(try s.delivery("e4")?.payload == Array("{\"id\":\"e4\"}".utf8))
            #expect(try s.dead.all().map(\.entry.id) == ["e3"])
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/p").sorted()
        #expect(!files.contains("00000001.log"), "\(files)")
        let migrated = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/p/" + files.first { $0.hasSuffix(".log") && $0 != "dead.log" }!)))
        #expect(Array(migrated.prefix(4)) == SpoolRecord.magic)
    }

    /// Attributes a sink attaches travel with the event through the spool and a restart.
    @Test func attributesAreSpooled() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-attrs")
        var d = delivery("a1")
        d.attributes = [("subject", "Re: ünïcode"), ("to", "ops@example.org")]
        do {
            let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, log: log)
            _ = try s.enqueue(d, nowMs: 1)
        }
        let s = try SinkSpool(directory: dir, sink: "p", maxBytes: 1 << 20, log: log)
        let back = try s.delivery("a1")
        #expect(back?.attributes.map(\.0) == ["subject", "to"])
        #expect(back?.attributes.map(\.1) == ["Re: ünïcode", "ops@example.org"])
    }
}
