import Testing
@testable import Relay

/// A value whose lifetime the test can see.
private final class Tracked {
    static nonisolated(unsafe) var alive = 0
    init() { Tracked.alive += 1 }
    deinit { Tracked.alive -= 1 }
}

@Suite(.serialized) struct FIFOTests {
    @Test func keepsOrderThroughPopsPrependsAndCompaction() {
        var q = FIFO<Int>()
        for i in 0..<3000 { q.append(i) }
        for i in 0..<2000 { #expect(q.popFirst() == i) }
        q.prepend([1998, 1999])
        #expect(q.count == 1002)
        #expect(q.first == 1998)
        #expect(q[2] == 2000)
        #expect(Array(q.elements.prefix(3)) == [1998, 1999, 2000])
        #expect(q.popLast() == 2999)
        var rest: [Int] = []
        while let x = q.popFirst() { rest.append(x) }
        #expect(rest == Array(1998...2998))
        #expect(q.isEmpty && q.popFirst() == nil)
    }

    /// A popped element is released at once: a queue of deliveries must not keep the payloads
    /// of lines already handed on until the next compaction (it kept up to 1,024 of them).
    @Test func aPoppedElementIsReleasedAtOnce() {
        Tracked.alive = 0
        var q = FIFO<Tracked>()
        for _ in 0..<100 { q.append(Tracked()) }
        for _ in 0..<60 { _ = q.popFirst() }
        #expect(Tracked.alive == 40)
        #expect(q.count == 40)
        q.removeAll()
        #expect(Tracked.alive == 0)
    }
}
