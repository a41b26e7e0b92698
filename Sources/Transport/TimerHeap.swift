/// Identifies a timer scheduled on an `EventLoop`, for `EventLoop.cancel(_:)`.
public struct TimerID: Hashable, Sendable {
    /// Unique per loop, increasing in scheduling order.
    public let rawValue: UInt64

    /// Wraps a raw identifier.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }
}

/// A binary min-heap of timers ordered by deadline, then by scheduling order (so timers with
/// equal deadlines fire first-in first-out).
///
/// Cancellation is lazy: `cancel` drops the body from `bodies` (O(1)) and the heap entry is
/// discarded when it reaches the top. Loop-thread only.
struct TimerHeap {
    private struct Entry {
        var deadline: Deadline
        var id: UInt64

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : id < other.id
        }
    }

    private var entries: [Entry] = []
    private var bodies: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    /// Number of live (not cancelled, not fired) timers.
    var count: Int { bodies.count }

    /// Adds a timer and returns its identifier.
    mutating func insert(at deadline: Deadline, _ body: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        bodies[id] = body
        entries.append(Entry(deadline: deadline, id: id))
        siftUp(entries.count - 1)
        return TimerID(rawValue: id)
    }

    /// Forgets a timer; a no-op if it already fired or was cancelled.
    mutating func cancel(_ id: TimerID) {
        bodies[id.rawValue] = nil
        // Keep the heap from filling up with dead entries when timers are re-armed often.
        if entries.count > 64 && entries.count > 4 * bodies.count { compact() }
    }

    /// The earliest live deadline, discarding cancelled entries on top.
    mutating func nextDeadline() -> Deadline? {
        while let top = entries.first {
            if bodies[top.id] != nil { return top.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the body of the earliest timer due at or before `now`, if any.
    mutating func popDue(now: Deadline) -> (() -> Void)? {
        while let top = entries.first, top.deadline <= now {
            popTop()
            if let body = bodies.removeValue(forKey: top.id) { return body }
        }
        return nil
    }

    private mutating func popTop() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        siftDown(0)
    }

    private mutating func compact() {
        entries.removeAll { bodies[$0.id] == nil }
        guard entries.count > 1 else { return }
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].precedes(entries[smallest]) { smallest = left }
            if right < entries.count && entries[right].precedes(entries[smallest]) { smallest = right }
            if smallest == parent { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
