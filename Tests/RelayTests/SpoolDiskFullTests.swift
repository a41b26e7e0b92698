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

/// A spool that fills its disk (the fault suite's `disk-full` case, in process). The disk is a
/// write fault that refuses writes while the sink's files hold `capacity` bytes or more, so that,
/// as on a real file system, deleting files makes room again.
@Suite(.serialized) struct SpoolDiskFullTests {
    struct Quiet: LogSink { func write(line: [UInt8]) {} }
    let log = Logger(level: .error, sink: Quiet())

    /// Bytes in the files of `dir`.
    static func bytes(in dir: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var total = 0
        for name in names {
            var st = stat()
            if stat(dir + "/" + name, &st) == 0 { total += Int(st.st_size) }
        }
        return total
    }

    func delivery(_ id: String, conversation: String, payload: String) -> Delivery {
        Delivery(eventId: id, tenant: "org", route: "r", type: "message:new", conversationId: conversation,
                 payload: Array(payload.utf8), hops: 0)
    }

    /// Found by `Tests/Faults/run` (disk-full): once every event was delivered the disk stayed
    /// full (the current segment goes only after a rotation, which needs room), so every later
    /// event was refused; an event refused because its batch could not be written stayed in its
    /// conversation's lane and held that conversation for good; and those refusals were not
    /// counted in `mojo_bridge_spool_refused_total`.
    @Test func aDrainedSpoolFreesTheDiskAndNoConversationIsHeld() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-diskfull")
        let sinkDir = dir + "/hand"
        let capacity = 48 << 10
        SpoolFile.writeFault = SpoolWriteFault { path in
            path.hasPrefix(sinkDir) && Self.bytes(in: sinkDir) >= capacity ? ENOSPC : nil
        }
        defer { SpoolFile.writeFault = nil }
        let loop = try EventLoop()
        let sink = HandSink(capacity: 100)
        let spool = try SinkSpool(directory: dir, sink: "hand", maxBytes: 64 << 20, log: log)
        let settings = SinkSettings(name: "hand", kind: .pipe(PipeSinkSettings(command: ["true"], per: .route, format: .json)),
                                    location: SourceLocation(file: "test", line: 1, column: 1),
                                    retry: [.zero, .milliseconds(100)])
        let r = SinkRunner(settings: settings, sink: sink, spool: spool, loop: loop, log: log, nowMs: { Timestamp.nowUnixMilliseconds() })
        let payload = "{\"x\":\"" + String(repeating: "p", count: 2000) + "\"}"
        // Three conversations fill the disk; each write is its own batch (as when events
        // arrive in separate loop turns).
        var sent: [String] = []
        for i in 0..<60 {
            sent.append("e\(i)")
            r.enqueue(delivery("e\(i)", conversation: "c\(i % 3)", payload: payload))
            spool.syncIfDirty(nowMs: Timestamp.nowUnixMilliseconds())
        }
        #expect(spool.writeFailing)
        #expect(r.refused > 0)
        // The receiver takes everything that was spooled.
        var finished = 0
        try SinkRunnerTests().spin(loop, ms: 10_000) {
            while finished < sink.started.count {
                sink.started[finished].done(.delivered)
                finished += 1
            }
            r.syncTick()
            return !spool.writeFailing && spool.pendingCount == 0
        }
        #expect(!spool.writeFailing, "the disk stayed full after everything was delivered")
        #expect(spool.pendingCount == 0, "events held: \(spool.orderedIDs)")
        #expect(Self.bytes(in: sinkDir) < 8 << 10, "the delivered events' segment is still on disk")
        let delivered = Set(sink.started.map(\.id))
        // Every event was either delivered or refused, and every refusal was counted.
        #expect(delivered.count + r.refused == sent.count, "delivered \(delivered.count), refused \(r.refused)")
        #expect(delivered.isSubset(of: Set(sent)))
        // New events are accepted again, in every conversation.
        for c in 0..<3 { r.enqueue(delivery("later\(c)", conversation: "c\(c)", payload: payload)) }
        try SinkRunnerTests().spin(loop, ms: 5000) { (0..<3).allSatisfy { c in sink.started.contains { $0.id == "later\(c)" } } }
        for c in 0..<3 { #expect(sink.started.contains { $0.id == "later\(c)" }, "conversation c\(c) is held") }
    }

    /// An event refused because its batch could not be written left the spool but stayed in its
    /// conversation's lane: once the event before it was delivered, the lane waited for it for
    /// good and every later event of that conversation stayed undelivered (until a restart).
    @Test func anEventRefusedForAFailedWriteDoesNotHoldItsConversation() throws {
        let dir = try RepoPaths.temporaryDirectory("spool-held")
        nonisolated(unsafe) var full = false
        SpoolFile.writeFault = SpoolWriteFault { path in path.hasPrefix(dir) && full ? ENOSPC : nil }
        defer { SpoolFile.writeFault = nil }
        let loop = try EventLoop()
        let sink = HandSink(capacity: 8)
        let spool = try SinkSpool(directory: dir, sink: "hand", maxBytes: 64 << 20, log: log)
        let settings = SinkSettings(name: "hand", kind: .pipe(PipeSinkSettings(command: ["true"], per: .route, format: .json)),
                                    location: SourceLocation(file: "test", line: 1, column: 1), retry: [.zero])
        let r = SinkRunner(settings: settings, sink: sink, spool: spool, loop: loop, log: log, nowMs: { Timestamp.nowUnixMilliseconds() })
        r.enqueue(delivery("first", conversation: "c", payload: "{}"))
        try SinkRunnerTests().spin(loop) { sink.started.count == 1 }
        // The disk is full for one batch: "refused" is admitted, then its write fails.
        full = true
        r.enqueue(delivery("refused", conversation: "c", payload: "{}"))
        spool.syncIfDirty(nowMs: Timestamp.nowUnixMilliseconds())
        #expect(spool.item(id: "refused") == nil)
        #expect(r.refused == 1, "the refusal was not counted")
        full = false
        try SinkRunnerTests().spin(loop) {
            r.syncTick()
            return !spool.writeFailing
        }
        r.enqueue(delivery("after", conversation: "c", payload: "{}"))
        sink.started[0].done(.delivered)
        try SinkRunnerTests().spin(loop) { sink.started.count == 2 }
        #expect(sink.started.map(\.id) == ["first", "after"], "the conversation is held by the refused event")
    }
}
