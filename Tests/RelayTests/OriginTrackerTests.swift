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

    /// What leaves unanswered is handed back (its reply then leaves the reply spool): nothing
    /// stays behind per reply when the server never answers.
    @Test func forgottenSendsAreHandedBack() {
        var o = OriginTracker(ttlMs: 1000, limit: 2)
        var forgotten: [String?] = []
        for i in 0..<3 {
            let f = o.record(tenant: "t", conversation: "c", content: "\(i)", origin: .init(sink: "a", hops: 0, commandId: "cmd\(i)"), now: t0)
            forgotten += f.map(\.origin.commandId)
        }
        #expect(forgotten == ["cmd0"])
        let late = o.record(tenant: "u", conversation: "c", content: "x", origin: .init(sink: "a", hops: 0, commandId: "cmd3"),
                            now: t0.adding(milliseconds: 1000))
        #expect(late.map(\.origin.commandId) == ["cmd1", "cmd2"])
        #expect(late.map(\.tenant) == ["t", "t"])
        #expect(o.count == 1)
    }

    /// Answers in order keep the tracker small over many sends (the head moves, the array is
    /// compacted), and an answer out of order leaves the others waiting.
    @Test func answersInAndOutOfOrder() {
        var o = OriginTracker(limit: 100_000)
        for round in 0..<3 {
            for i in 0..<5000 {
                o.record(tenant: "t", conversation: "c\(i % 2)", content: "\(round)-\(i)", origin: .init(sink: "a", hops: 0, commandId: "\(round)-\(i)"), now: t0)
            }
            // c1's first send is answered before c0's.
            #expect(o.answered(tenant: "t", conversation: "c1")?.commandId == "\(round)-1")
            #expect(o.isPending(commandId: "\(round)-0"))
            #expect(!o.isPending(commandId: "\(round)-1"))
            var answered = 1
            while o.answered(tenant: "t", conversation: nil) != nil { answered += 1 }
            #expect(answered == 5000)
            #expect(o.count == 0)
        }
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
