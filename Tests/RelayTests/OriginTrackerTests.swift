import Testing
import Transport
@testable import Relay

@Suite struct OriginTrackerTests {
    let t0 = Deadline(nanoseconds: 1_000_000_000)

    @Test func echoesAreMatchedOldestFirstByConversationAndContent() {
        var o = OriginTracker()
        o.record(tenant: "t", conversation: "c", content: "hi", origin: .init(sink: "a", hops: 1), now: t0)
        o.record(tenant: "t", conversation: "c", content: "hi", origin: .init(sink: "b", hops: 2), now: t0)
        let results = [o.echo(tenant: "t", conversation: "other", content: "hi")?.sink,
                       o.echo(tenant: "t", conversation: "c", content: "hi")?.sink,
                       o.echo(tenant: "t", conversation: "c", content: "hi")?.sink,
                       o.echo(tenant: "t", conversation: "c", content: "hi")?.sink,
                       o.answered(tenant: "t", conversation: "c")?.sink]
        #expect(results == [nil, "a", "b", nil, "a"])
        #expect(o.count == 1)
    }

    @Test func entriesExpire() {
        var o = OriginTracker(ttlMs: 1000)
        o.record(tenant: "t", conversation: "c", content: "x", origin: .init(sink: "a", hops: 1), now: t0)
        o.record(tenant: "t", conversation: "c", content: "y", origin: .init(sink: "a", hops: 1), now: t0.adding(milliseconds: 2000))
        #expect(o.count == 1)
        let expired = o.echo(tenant: "t", conversation: "c", content: "x")
        #expect(expired == nil)
    }

    @Test func theTrackerIsBounded() {
        var o = OriginTracker(limit: 3)
        for i in 0..<10 { o.record(tenant: "t", conversation: "c", content: "\(i)", origin: .init(sink: "a", hops: 0), now: t0) }
        #expect(o.count == 3)
        let newest = o.echo(tenant: "t", conversation: "c", content: "9")
        #expect(newest?.sink == "a")
    }
}

@Suite struct TypingLimiterTests {
    @Test func repeatsWithinTheIntervalAreDropped() {
        var l = TypingLimiter(intervalMs: 2000)
        let t0 = Deadline(nanoseconds: 5_000_000_000)
        let steps: [(Bool, String, Int, Bool)] = [
            (true, "c", 0, true), (true, "c", 1999, false), (true, "d", 0, true),
            (true, "c", 2000, true), (false, "c", 0, true), (false, "c", 0, false),
        ]
        for (start, conversation, at, expected) in steps {
            let allowed = l.allow(start: start, tenant: "t", conversation: conversation, now: t0.adding(milliseconds: at))
            #expect(allowed == expected)
        }
    }
}
