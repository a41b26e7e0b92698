import Diagnostics
import Rules
import TestKit
import Testing
import Transport
@testable import Relay

/// `SinkRunner` on virtual time: the retry schedule with its jitter, Retry-After, dead letters,
/// per-conversation order behind a retry, and a 410. Exact delays, no sleeps.
@Suite struct SinkRunnerScheduleTests {
    let clock = VirtualClock()
    let log = Logger.quiet

    func delivery(_ id: String, _ conversation: String = "c1") -> Delivery {
        Delivery(eventId: id, tenant: "org", route: "r", type: "message:new", conversationId: conversation,
                 payload: Array("{}".utf8), hops: 0)
    }

    func runner(_ sink: RecordingSink, retry: [Duration]) -> SinkRunner {
        let settings = SinkSettings(name: sink.name, kind: .pipe(PipeSinkSettings(command: ["true"], per: .route, format: .json)),
                                    location: SourceLocation(file: "test", line: 1, column: 1), retry: retry)
        return SinkRunner(settings: settings, sink: sink, spool: SinkSpool(memoryFor: sink.name, maxBytes: 1 << 20, log: log),
                          loop: clock, log: log, nowMs: { [clock] in clock.unixMs })
    }

    @Test func afterTheLastScheduledAttemptTheEventIsDeadLettered() {
        let sink = RecordingSink(name: "hook")
        sink.outcome = .retry(reason: "HTTP 503", afterMs: nil)
        let r = runner(sink, retry: [.zero, .seconds(10), .seconds(60), .seconds(600)])
        r.enqueue(delivery("e1"))
        clock.advance(until: { r.deadLettered == 1 })
        // One attempt per entry of the schedule, then the dead letter.
        #expect(sink.attempts.count == 4)
        #expect(r.retried == 3 && r.spool.deadCount == 1)
        // Nothing more is tried once the event is a dead letter, however long we wait.
        clock.advance(byMilliseconds: 86_400_000)
        #expect(sink.attempts.count == 4 && clock.pendingTimers == 0)
    }

    @Test func eachRetryWaitsItsScheduledDelayPlusOrMinusTenPercent() {
        let sink = RecordingSink(name: "hook")
        let r = runner(sink, retry: [.zero, .seconds(10), .seconds(60), .seconds(600)])
        r.enqueue(delivery("e1"))
        clock.runDue()
        #expect(sink.attempts.count == 1)
        var gaps: [Int] = []
        for _ in 0..<3 {
            let before = clock.elapsedMs
            sink.finish(nil, .retry(reason: "HTTP 503", afterMs: nil))
            clock.runDue()
            #expect(sink.attempts.count == gaps.count + 1, "no attempt before its delay")
            clock.advance(until: { sink.attempts.count == gaps.count + 2 })
            gaps.append(clock.elapsedMs - before)
        }
        for (gap, base) in zip(gaps, [10_000, 60_000, 600_000]) {
            #expect(gap >= base - base / 10 && gap <= base + base / 10, "gap \(gap) for a base of \(base)")
        }
        sink.finish(nil, .retry(reason: "HTTP 503", afterMs: nil))
        clock.runDue()
        #expect(r.deadLettered == 1 && r.spool.deadCount == 1)
    }

    @Test func retryAfterLongerThanTheScheduleIsHonoured() {
        let sink = RecordingSink(name: "hook")
        let r = runner(sink, retry: [.zero, .seconds(1), .seconds(1)])
        r.enqueue(delivery("e1"))
        clock.runDue()
        sink.finish(nil, .retry(reason: "HTTP 429", afterMs: 30_000))
        clock.advance(byMilliseconds: 29_999)
        #expect(sink.attempts.count == 1, "retried before Retry-After")
        clock.advance(byMilliseconds: 1)
        #expect(sink.attempts.count == 2)
        sink.finish(nil, .delivered)
        clock.runDue()
        #expect(r.delivered == 1 && r.spool.isEmpty)
    }

    @Test func aConversationWaitsBehindItsRetryWhileOthersGoAhead() {
        let sink = RecordingSink(name: "hook")
        let r = runner(sink, retry: [.zero, .seconds(5), .seconds(5)])
        r.enqueue(delivery("a1", "A"))
        r.enqueue(delivery("a2", "A"))
        r.enqueue(delivery("b1", "B"))
        clock.runDue()
        #expect(sink.attemptedIds == ["a1", "b1"])
        sink.finish("a1", .retry(reason: "timeout", afterMs: nil))
        sink.finish("b1", .delivered)
        clock.advance(byMilliseconds: 4_000)
        // a2 keeps its place behind a1: no reordering within a conversation.
        #expect(sink.attemptedIds == ["a1", "b1"])
        clock.advance(until: { sink.attempts.count == 3 })
        #expect(sink.attemptedIds == ["a1", "b1", "a1"])
        sink.finish("a1", .delivered)
        clock.runDue()
        #expect(sink.attemptedIds == ["a1", "b1", "a1", "a2"])
        sink.finish("a2", .delivered)
        clock.runDue()
        #expect(r.delivered == 3 && r.spool.isEmpty && r.liveLanes == 0)
    }

    @Test func aPermanentFailureIsDeadLetteredAtOnce() {
        let sink = RecordingSink(name: "hook")
        let r = runner(sink, retry: SinkSettings.defaultRetry)
        r.enqueue(delivery("e1"))
        clock.runDue()
        sink.finish(nil, .failed(reason: "HTTP 400"))
        clock.runDue()
        #expect(r.deadLettered == 1 && r.retried == 0 && clock.pendingTimers == 0)
    }

    @Test func aGoneReceiverStopsTheSinkUntilRevived() {
        let sink = RecordingSink(name: "hook")
        let r = runner(sink, retry: SinkSettings.defaultRetry)
        r.enqueue(delivery("e1"))
        clock.runDue()
        sink.finish(nil, .disabled(reason: "HTTP 410"))
        r.enqueue(delivery("e2", "c2"))
        clock.advance(byMilliseconds: 86_400_000)
        #expect(r.disabled && sink.attempts.count == 1)
        _ = r.retryDead([])
        clock.runDue()
        #expect(!r.disabled)
        #expect(Set(sink.attemptedIds.dropFirst()) == ["e1", "e2"])
    }
}
