import Diagnostics
import Rules
import Testing
import Transport
@testable import Relay

/// A sink whose deliveries the test completes by hand.
final class HandSink: Sink {
    let name = "hand"
    let capacity: Int
    var capacityBytes = Int.max
    let pipelinesConversations = false
    var started: [(id: String, done: (DeliveryOutcome) -> Void)] = []
    init(capacity: Int) { self.capacity = capacity }
    func deliver(_ delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void) { started.append((delivery.eventId, done)) }
    func stop(graceMs: Int, _ done: @escaping () -> Void) { done() }
}

@Suite struct SinkRunnerTests {
    let log = Logger(level: .error)

    func delivery(_ id: String, _ conversation: String) -> Delivery {
        Delivery(eventId: id, tenant: "org", route: "r", type: "message:new", conversationId: conversation, payload: Array("{}".utf8), hops: 0)
    }

    func runner(_ sink: HandSink, _ loop: EventLoop, retry: [Duration] = SinkSettings.defaultRetry) -> SinkRunner {
        let settings = SinkSettings(name: "hand", kind: .pipe(PipeSinkSettings(command: ["true"], per: .route, format: .json)),
                                    location: SourceLocation(file: "test", line: 1, column: 1), retry: retry)
        return SinkRunner(settings: settings, sink: sink, spool: SinkSpool(memoryFor: "hand", maxBytes: 1 << 20, log: log),
                          loop: loop, log: log, nowMs: { Timestamp.nowUnixMilliseconds() })
    }

    /// Runs the loop until `done()` holds (checked every millisecond), for at most `ms`.
    func spin(_ loop: EventLoop, ms: Int = 3000, until done: @escaping () -> Bool) throws {
        func check() {
            if done() { loop.stop() } else { loop.schedule(afterMilliseconds: 1) { check() } }
        }
        loop.schedule(afterMilliseconds: 0) { check() }
        let timeout = loop.schedule(afterMilliseconds: ms) { loop.stop() }
        try loop.run()
        loop.cancel(timeout)
    }

    @Test func eachConversationKeepsItsOrderWhileOthersGoAhead() throws {
        let loop = try EventLoop()
        let sink = HandSink(capacity: 4)
        let r = runner(sink, loop)
        for (id, c) in [("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A"), ("b2", "B")] { r.enqueue(delivery(id, c)) }
        try spin(loop) { sink.started.count == 2 }
        // One at a time per conversation (an HTTP endpoint does not keep order itself).
        #expect(sink.started.map(\.id) == ["a1", "b1"])
        sink.started[1].done(.delivered)
        try spin(loop) { sink.started.count == 3 }
        #expect(sink.started.map(\.id) == ["a1", "b1", "b2"])
        sink.started[0].done(.delivered)
        try spin(loop) { sink.started.count == 4 }
        sink.started[3].done(.delivered)
        try spin(loop) { sink.started.count == 5 }
        #expect(sink.started.map(\.id) == ["a1", "b1", "b2", "a2", "a3"])
        sink.started[2].done(.delivered)
        sink.started[4].done(.delivered)
        try spin(loop) { r.spool.isEmpty }
        #expect(r.spool.isEmpty && r.delivered == 5)
        #expect(r.liveLanes == 0)
    }

    /// What a sink holds in memory is bounded in bytes too: past `capacityBytes` in flight, events
    /// wait in the spool; one delivery always goes, however large.
    @Test func deliveriesInFlightAreBoundedInBytes() throws {
        let loop = try EventLoop()
        let sink = HandSink(capacity: 100)
        sink.capacityBytes = 10
        let r = runner(sink, loop)
        func event(_ id: String, _ c: String, bytes: Int) -> Delivery {
            var d = delivery(id, c)
            d.payload = [UInt8](repeating: 0x61, count: bytes)
            return d
        }
        for i in 0..<6 { r.enqueue(event("e\(i)", "c\(i)", bytes: 4)) }
        try spin(loop) { sink.started.count == 3 }
        try spin(loop, ms: 50) { false }
        // 0, 4 and 8 bytes were in flight when each started; at 12 the rest wait.
        #expect(sink.started.map(\.id) == ["e0", "e1", "e2"])
        #expect(r.inFlightBytes == 12)
        sink.started[0].done(.delivered)
        try spin(loop) { sink.started.count == 4 }
        try spin(loop, ms: 50) { false }
        #expect(sink.started.count == 4 && r.inFlightBytes == 12)
        for s in sink.started[1...] { s.done(.delivered) }
        try spin(loop) { sink.started.count == 6 }
        for s in sink.started[4...] { s.done(.delivered) }
        try spin(loop) { r.spool.isEmpty }
        #expect(r.inFlightBytes == 0)
        // Larger than the bound alone: it goes (nothing else is in flight), and only it.
        sink.started.removeAll()
        r.enqueue(event("big", "c9", bytes: 64))
        r.enqueue(event("next", "c8", bytes: 1))
        try spin(loop) { sink.started.count == 1 }
        try spin(loop, ms: 50) { false }
        #expect(sink.started.map(\.id) == ["big"])
        sink.started[0].done(.delivered)
        try spin(loop) { sink.started.count == 2 }
        #expect(sink.started.map(\.id) == ["big", "next"])
    }

    @Test func lanesOfFinishedConversationsAreReused() throws {
        let loop = try EventLoop()
        let sink = HandSink(capacity: 10_000)
        let r = runner(sink, loop)
        for round in 0..<3 {
            for c in 0..<1000 { r.enqueue(delivery("e\(round)-\(c)", "conv\(c)")) }
            try spin(loop) { sink.started.count == 1000 }
            #expect(r.liveLanes == 1000)
            for s in sink.started { s.done(.delivered) }
            sink.started.removeAll()
            try spin(loop) { r.spool.isEmpty }
            #expect(r.liveLanes == 0)
            // The lane table does not grow round after round: freed lanes are taken again.
            #expect(r.laneSlots == 1000)
        }
    }

    @Test func aRetriedEventHoldsItsConversationBackThenGoesAgain() throws {
        let loop = try EventLoop()
        let sink = HandSink(capacity: 4)
        let r = runner(sink, loop, retry: [.zero, .milliseconds(30), .milliseconds(30)])
        r.enqueue(delivery("x1", "X"))
        r.enqueue(delivery("x2", "X"))
        try spin(loop) { sink.started.count == 1 }
        sink.started[0].done(.retry(reason: "HTTP 503", afterMs: nil))
        try spin(loop) { sink.started.count == 2 }
        // The same event again (after its delay), not the next one of the conversation.
        #expect(sink.started.map(\.id) == ["x1", "x1"])
        #expect(r.spool.item(id: "x1")?.attempts == 1)
        sink.started[1].done(.retry(reason: "HTTP 503", afterMs: nil))
        try spin(loop) { sink.started.count == 3 }
        sink.started[2].done(.retry(reason: "HTTP 503", afterMs: nil))
        // Out of attempts: dead-lettered, and the conversation moves on.
        try spin(loop) { sink.started.count == 4 }
        #expect(sink.started.map(\.id) == ["x1", "x1", "x1", "x2"])
        #expect(r.spool.item(id: "x1") == nil && r.spool.deadCount == 1 && r.deadLettered == 1)
        // The dead letter keeps its attempts (the log said 3; so does `spool list`).
        #expect(try r.spool.dead.all().map(\.attempts) == [3])
    }
}
