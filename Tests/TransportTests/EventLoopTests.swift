import Glibc
import Testing
@testable import Transport

@Suite struct EventLoopTests {
    @Test func timersFireInDeadlineOrderAndCancelWorks() throws {
        let loop = try EventLoop()
        var fired: [Int] = []
        let base = loop.now
        loop.schedule(at: base.adding(milliseconds: 30)) { fired.append(3) }
        loop.schedule(at: base.adding(milliseconds: 10)) { fired.append(1) }
        let cancelled = loop.schedule(at: base.adding(milliseconds: 20)) { fired.append(99) }
        loop.schedule(at: base.adding(milliseconds: 20)) { fired.append(2) }
        loop.schedule(at: base.adding(milliseconds: 20)) { fired.append(22) }
        loop.schedule(at: base.adding(milliseconds: 40)) {
            fired.append(4)
            loop.stop()
        }
        loop.cancel(cancelled)
        try loop.run()
        #expect(fired == [1, 2, 22, 3, 4])
        #expect(Deadline.now() >= base.adding(milliseconds: 40))
    }

    @Test func workDeferredToTheEndOfTurnRunsAfterEveryReadyCallbackOfThatTurn() throws {
        let loop = try EventLoop()
        var a: [Int32] = [0, 0], b: [Int32] = [0, 0]
        #expect(pipe(&a) == 0 && pipe(&b) == 0)
        defer { for fd in a + b { close(fd) } }
        // Both descriptors are readable before the loop starts: one epoll_wait reports both.
        #expect(write(a[1], "x", 1) == 1 && write(b[1], "y", 1) == 1)
        var log: [String] = []
        var watches: [FDWatch] = []
        for (name, fd) in [("a", a[0]), ("b", b[0])] {
            watches.append(try loop.watch(fd: fd, readable: true, writable: false) { _, _, _ in
                var byte: UInt8 = 0
                _ = read(fd, &byte, 1)
                log.append("read " + name)
                loop.atEndOfTurn {
                    log.append("end of turn " + name)
                    // Deferred from deferred work: still this turn, after what was queued before.
                    if name == "a" { loop.atEndOfTurn { log.append("nested") } }
                }
            })
        }
        loop.schedule(afterMilliseconds: 20) {
            log.append("timer")
            loop.atEndOfTurn {
                log.append("after timer")
                loop.stop()
            }
        }
        try loop.run()
        for w in watches { w.cancel() }
        #expect(log == ["read a", "read b", "end of turn a", "end of turn b", "nested", "timer", "after timer"])
    }

    @Test func timerCanCancelAnotherDueTimer() throws {
        let loop = try EventLoop()
        var fired: [String] = []
        var second: TimerID?
        loop.schedule(afterMilliseconds: 0) {
            fired.append("first")
            if let second { loop.cancel(second) }
        }
        second = loop.schedule(afterMilliseconds: 0) { fired.append("second") }
        loop.schedule(afterMilliseconds: 5) { loop.stop() }
        try loop.run()
        #expect(fired == ["first"])
    }

    @Test func manyTimersWithRandomDeadlinesFireSorted() throws {
        let loop = try EventLoop()
        var fired: [Int] = []
        var ids: [Int: TimerID] = [:]
        let base = loop.now
        for delay in (0..<200).shuffled() {
            ids[delay] = loop.schedule(at: base.adding(milliseconds: delay / 10)) { fired.append(delay) }
        }
        for delay in stride(from: 0, to: 200, by: 3) { loop.cancel(ids[delay]!) }
        loop.schedule(at: base.adding(milliseconds: 25)) { loop.stop() }
        try loop.run()
        let expected = (0..<200).filter { $0 % 3 != 0 }
        #expect(fired.count == expected.count)
        // Same deadline bucket (delay / 10) may fire in scheduling order; buckets must be ordered.
        #expect(fired.map { $0 / 10 } == expected.map { $0 / 10 })
        #expect(Set(fired) == Set(expected))
    }

    @Test func executeFromAnotherThreadRunsOnTheLoop() throws {
        let loop = try EventLoop()
        let handle = loop.handle
        let loopThread = pthread_self()
        var ranOnLoop = 0
        let box = LoopStopper(loop: loop)
        let worker = try spawnThread {
            for _ in 0..<100 {
                handle.execute {
                    box.count()
                }
            }
            handle.execute { box.finish() }
        }
        box.onCount = {
            if pthread_equal(pthread_self(), loopThread) != 0 { ranOnLoop += 1 }
        }
        let safety = loop.schedule(afterMilliseconds: 10_000) { loop.stop() }
        try loop.run()
        loop.cancel(safety)
        pthread_join(worker, nil)
        #expect(ranOnLoop == 100)
        #expect(box.finished)
    }

    @Test func signalHandlerRunsOnTheLoop() throws {
        let loop = try EventLoop()
        var received = 0
        try loop.onSignal(SIGUSR1) {
            received += 1
            loop.stop()
        }
        // Directed at this (the loop) thread, where onSignal blocked SIGUSR1: the test runner's
        // other threads do not block it, so a process-directed kill() could land on one of them.
        loop.schedule(afterMilliseconds: 0) { _ = pthread_kill(pthread_self(), SIGUSR1) }
        let safety = loop.schedule(afterMilliseconds: 10_000) { loop.stop() }
        try loop.run()
        loop.cancel(safety)
        #expect(received == 1)
    }

    @Test func watchReportsReadabilityAndCancelStopsDelivery() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var reads = 0
        var watch: FDWatch?
        watch = try loop.watch(fd: fds[0], readable: true, writable: false) { readable, _, _ in
            #expect(readable)
            var byte: UInt8 = 0
            _ = read(fds[0], &byte, 1)
            reads += 1
            watch?.cancel()
            // Still readable (one byte left) but cancelled: no further callback.
            loop.schedule(afterMilliseconds: 20) { loop.stop() }
        }
        var two: [UInt8] = [1, 2]
        #expect(write(fds[1], &two, 2) == 2)
        try loop.run()
        #expect(reads == 1)
        #expect(watch?.isCancelled == true)
    }
}

/// Lets the worker thread reach the loop only through `Handle.execute`; its state is touched
/// only inside closures that run on the loop thread.
final class LoopStopper: @unchecked Sendable {
    let loop: EventLoop
    var onCount: () -> Void = {}
    var finished = false
    init(loop: EventLoop) { self.loop = loop }
    func count() { onCount() }
    func finish() {
        finished = true
        loop.stop()
    }
}
