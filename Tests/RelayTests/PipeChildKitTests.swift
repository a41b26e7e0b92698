import Diagnostics
import Mojo
import Rules
import TestKit
import Testing
import Transport
@testable import Relay
#if canImport(Glibc)
import Glibc
#endif

/// `PipeSink` and `PipeChild` driven through scripted children on virtual time: restart backoff,
/// delivery once read, and the reply context of what the child has read.
@Suite struct PipeChildKitTests {
    let clock = VirtualClock()
    let host = RecordingHost()
    let launcher: FakeLauncher

    init() {
        launcher = FakeLauncher(clock: clock)
    }

    func sink(per: PipeSinkSettings.Per = .route) -> PipeSink {
        let pipe = PipeSinkSettings(command: ["/bin/bot"], per: per, format: .json)
        let settings = SinkSettings(name: "bot", kind: .pipe(pipe), location: SourceLocation(file: "t", line: 1, column: 1))
        return PipeSink(settings: settings, pipe: pipe, scheduler: clock, launcher: launcher, logger: Logger.quiet,
                        host: host, hiddenEnvironment: [])
    }

    func delivery(_ id: String, conversation: String, tenant: String = "org_a", hops: Int = 0) -> Delivery {
        Delivery(eventId: id, tenant: tenant, route: "r", type: "message:new", conversationId: conversation,
                 payload: Array(#"{"id":"\#(id)"}"#.utf8), hops: hops)
    }

    /// Gaps between consecutive start attempts, in virtual ms.
    var gaps: [Int] { zip(launcher.attemptTimesMs.dropFirst(), launcher.attemptTimesMs).map { $0 - $1 } }

    @Test func aCrashLoopingChildIsRestartedWithGrowingCappedDelays() {
        // Every child dies at once.
        launcher.onLaunch = { [clock] child in clock.schedule(afterMilliseconds: 0) { child.exit(.exited(1)) } }
        let s = sink()
        var outcomes: [DeliveryOutcome] = []
        s.deliver(delivery("e1", conversation: "c1")) { outcomes.append($0) }
        clock.advance(until: { self.launcher.attemptTimesMs.count == 12 })
        // 200 ms doubling per quick exit, ±25 %, capped at 60 s (±25 %).
        for (i, gap) in gaps.enumerated() {
            let base = min(60_000, 200 << i)
            #expect(gap >= base - base / 4 && gap <= base + base / 4, "restart \(i + 1): \(gap) ms for a base of \(base)")
        }
        #expect(gaps.last! <= 75_000)
        #expect(s.crashLoopingChildren == 1 && s.restarts == 12)
        // The event waits for a child that reads it: never reported delivered by a dead one.
        #expect(outcomes.isEmpty)
    }

    @Test func theDelayGoesBackToTheBaseAfterAHealthyRun() {
        var quick = true
        launcher.onLaunch = { [clock] child in
            clock.schedule(afterMilliseconds: quick ? 0 : 6_000) { child.exit(.exited(1)) }
        }
        let s = sink()
        s.deliver(delivery("e1", conversation: "c1")) { _ in }
        clock.advance(until: { self.launcher.attemptTimesMs.count == 6 })
        #expect(gaps.last! >= 2_400)   // 3 200 ± 25 %
        // The next child lives past the 5 s healthy period: its exit restarts at the base delay.
        quick = false
        clock.advance(until: { self.launcher.attemptTimesMs.count == 8 })
        let afterHealthy = gaps.last! - 6_000
        #expect(afterHealthy >= 150 && afterHealthy <= 250, "restart after a healthy run took \(afterHealthy) ms")
        #expect(s.crashLoopingChildren == 0)
    }

    @Test func aCommandThatCannotStartIsRetriedWithBackoffNotInATightLoop() {
        launcher.failNext = 1_000
        let s = sink()
        s.deliver(delivery("e1", conversation: "c1")) { _ in }
        clock.advance(byMilliseconds: 60_000)
        // A tight 100 ms loop would have made 600 attempts in a minute.
        #expect(launcher.failedLaunches >= 5 && launcher.failedLaunches <= 12, "\(launcher.failedLaunches) attempts in a minute")
        #expect(s.crashLoopingChildren == 1)
    }

    @Test func aDeliveryCountsOnceTheChildHasReadIt() {
        let s = sink()
        var done: [String: DeliveryOutcome] = [:]
        for id in ["e1", "e2"] { s.deliver(delivery(id, conversation: "c1")) { done[id] = $0 } }
        clock.runDue()
        let child = launcher.last!
        #expect(child.unreadLines.count == 2)
        clock.advance(byMilliseconds: 1_000)
        #expect(done.isEmpty, "written is not read")
        child.read(lines: 1)
        clock.advance(byMilliseconds: 600)
        #expect(done == ["e1": .delivered])
        child.read()
        clock.advance(byMilliseconds: 600)
        #expect(done == ["e1": .delivered, "e2": .delivered])
    }

    @Test func unreadEventsGoToTheNextChildAfterACrash() {
        let s = sink()
        var done: [String] = []
        for id in ["e1", "e2", "e3"] { s.deliver(delivery(id, conversation: "c1")) { _ in done.append(id) } }
        clock.runDue()
        let first = launcher.last!
        first.read(lines: 1)
        first.exit(.signalled(SIGSEGV))
        clock.advance(until: { self.launcher.children.count == 2 })
        clock.runDue()
        // What the first child read is delivered; the rest goes to the new child, in order.
        #expect(done == ["e1"])
        #expect(launcher.last!.unreadLines == [#"{"id":"e2"}"#, #"{"id":"e3"}"#])
    }

    // MARK: The reply context

    @Test func aPlainReplyGoesToTheConversationOfTheLineReadNotTheLastWritten() {
        let s = sink()
        s.deliver(delivery("a1", conversation: "A")) { _ in }
        // A burst of 50 events of another conversation queued behind the one being answered.
        for i in 0..<50 { s.deliver(delivery("b\(i)", conversation: "B")) { _ in } }
        clock.runDue()
        let child = launcher.last!
        child.read(lines: 1)
        child.say("hello A")
        #expect(host.commands.count == 1)
        let c = host.commands[0]
        #expect(c.command.command.conversationId == "A")
        #expect(c.context.tenant == "org_a" && c.context.answering == "a1" && !c.context.certain)
        // What was only written (the burst of B) makes it neither ambiguous nor B's.
        #expect(c.context.ambiguity == nil)
    }

    @Test func aReplyAfterReadingSeveralConversationsIsAmbiguous() {
        let s = sink()
        s.deliver(delivery("a1", conversation: "A")) { _ in }
        s.deliver(delivery("b1", conversation: "B")) { _ in }
        clock.runDue()
        let child = launcher.last!
        child.read()
        child.say("which one?")
        #expect(host.commands.count == 1)
        #expect(host.commands[0].context.ambiguity != nil)
    }

    @Test func inReplyToNamesTheEventAnsweredWhateverWasReadLast() {
        let s = sink()
        s.deliver(delivery("a1", conversation: "A", tenant: "org_a", hops: 1)) { _ in }
        s.deliver(delivery("b1", conversation: "B", tenant: "org_b")) { _ in }
        clock.runDue()
        let child = launcher.last!
        child.read()
        child.say(#"{"type":"message:send","inReplyTo":"a1","data":{"content":"to A"}}"#)
        let c = host.commands[0]
        #expect(c.command.command.conversationId == "A")
        #expect(c.context.tenant == "org_a" && c.context.certain && c.context.hops == 1 && c.context.answering == "a1")
    }

    @Test func aPerConversationChildRepliesToItsOwnConversation() {
        let s = sink(per: .conversation)
        s.deliver(delivery("a1", conversation: "A")) { _ in }
        s.deliver(delivery("b1", conversation: "B", tenant: "org_b")) { _ in }
        clock.runDue()
        #expect(launcher.children.count == 2)
        let b = launcher.children.first { $0.environment.contains("MOJO_CONVERSATION=B") }!
        #expect(b.environment.contains("MOJO_TENANT=org_b"))
        b.say("hi B")
        #expect(host.commands.first?.command.command.conversationId == "B")
        #expect(host.commands.first?.context.tenant == "org_b" && host.commands.first?.context.certain == true)
    }

    @Test func aChildThatClosesItsStdinIsRestartedAndItsEventsRedelivered() {
        let s = sink()
        s.deliver(delivery("e1", conversation: "c1")) { _ in }
        clock.runDue()
        let first = launcher.last!
        first.hasStdin = false
        clock.advance(until: { self.launcher.children.count == 2 }, limitMs: 10_000)
        #expect(first.signals.contains(SIGTERM))
        clock.runDue()
        #expect(launcher.last!.unreadLines == [#"{"id":"e1"}"#])
    }

    @Test func stoppingEndsTheChildAndKeepsUnreadEventsSpooled() {
        let s = sink()
        var done: [String] = []
        for id in ["e1", "e2"] { s.deliver(delivery(id, conversation: "c1")) { _ in done.append(id) } }
        clock.runDue()
        let child = launcher.last!
        child.read(lines: 1)
        var stopped = false
        s.stop(graceMs: 1_000) { stopped = true }
        clock.runDue()
        #expect(stopped && child.stdinClosed && child.signals == [SIGTERM])
        // Read: delivered. Unread: not reported, so the spool keeps it for the next run.
        #expect(done == ["e1"])
    }
}
