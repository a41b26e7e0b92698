import Transport

/// A `Scheduler` whose time moves only when the test says so: timers fire, in deadline order,
/// as `advance` passes their deadlines, so backoff, retry schedules and timeouts run in
/// microseconds of real time with exact delays and no sleeps.
///
/// Single-threaded like the loop it stands in for. Work scheduled with 0 ms and end-of-turn
/// work runs at `runDue()` (which every `advance` does at each step).
public final class VirtualClock: Scheduler {
    private struct Timer {
        var deadline: Deadline
        var id: UInt64
        var body: () -> Void
    }

    public private(set) var now: Deadline
    private var timers: [Timer] = []
    private var nextID: UInt64 = 1
    private var endOfTurn: [() -> Void] = []
    /// The Unix time in milliseconds at the clock's start (for components that take `nowMs`).
    public let unixStartMs: Int64
    private let start: Deadline

    /// A clock at an arbitrary monotonic start (not 0: code may subtract small delays).
    public init(unixStartMs: Int64 = 1_800_000_000_000) {
        start = Deadline(nanoseconds: 1_000_000_000_000)
        now = start
        self.unixStartMs = unixStartMs
    }

    /// Milliseconds since the clock was made.
    public var elapsedMs: Int { Int((now.nanoseconds - start.nanoseconds) / 1_000_000) }
    /// The Unix time now, in milliseconds (`unixStartMs` plus what has elapsed).
    public var unixMs: Int64 { unixStartMs + Int64(elapsedMs) }

    @discardableResult
    public func schedule(at deadline: Deadline, _ body: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        let timer = Timer(deadline: deadline, id: id, body: body)
        // Sorted by deadline, then id: insertion after every timer due no later (FIFO on ties).
        let index = timers.firstIndex { $0.deadline > deadline } ?? timers.count
        timers.insert(timer, at: index)
        return TimerID(rawValue: id)
    }

    @discardableResult
    public func schedule(afterMilliseconds: Int, _ body: @escaping () -> Void) -> TimerID {
        schedule(at: now.adding(milliseconds: max(0, afterMilliseconds)), body)
    }

    public func cancel(_ id: TimerID) {
        timers.removeAll { $0.id == id.rawValue }
    }

    public func atEndOfTurn(_ body: @escaping () -> Void) {
        endOfTurn.append(body)
    }

    /// Timers waiting to fire.
    public var pendingTimers: Int { timers.count }

    /// Milliseconds until the next timer (0 when one is due), nil when none is armed.
    public var nextTimerInMs: Int? {
        timers.first.map { $0.deadline <= now ? 0 : Int(($0.deadline.nanoseconds - now.nanoseconds) / 1_000_000) }
    }

    /// The delays (ms from now) of every armed timer, soonest first.
    public var timerDelaysMs: [Int] {
        timers.map { $0.deadline <= now ? 0 : Int(($0.deadline.nanoseconds - now.nanoseconds) / 1_000_000) }
    }

    /// Runs everything due now: timers at or before `now` (including ones they schedule for
    /// now) and end-of-turn work, until nothing is left to do at this instant.
    /// Stops with a failure message after 1,000,000 callbacks (a timer re-arming itself at 0 ms).
    public func runDue() {
        var budget = 1_000_000
        while true {
            if let first = timers.first, first.deadline <= now {
                timers.removeFirst()
                first.body()
            } else if !endOfTurn.isEmpty {
                let work = endOfTurn
                endOfTurn.removeAll()
                for body in work { body() }
            } else {
                return
            }
            budget -= 1
            precondition(budget > 0, "VirtualClock: work keeps scheduling itself at the same instant")
        }
    }

    /// Moves time forward by `milliseconds`, stopping at each timer's deadline on the way to run
    /// it (and what it makes due), so callbacks see the time they were scheduled for.
    public func advance(byMilliseconds milliseconds: Int) {
        advance(to: now.adding(milliseconds: milliseconds))
    }

    /// Moves time forward to `target` (see `advance(byMilliseconds:)`).
    public func advance(to target: Deadline) {
        runDue()
        while let first = timers.first, first.deadline <= target {
            if first.deadline > now { now = first.deadline }
            runDue()
        }
        if target > now { now = target }
        runDue()
    }

    /// Jumps to the next timer's deadline and runs what is due then; returns how far time moved
    /// (ms), or nil when no timer is armed.
    @discardableResult
    public func advanceToNextTimer() -> Int? {
        runDue()
        guard let first = timers.first else { return nil }
        let before = now
        if first.deadline > now { now = first.deadline }
        runDue()
        return Int((now.nanoseconds - before.nanoseconds) / 1_000_000)
    }

    /// Advances timer by timer until `condition` holds, for at most `limitMs` of virtual time;
    /// returns whether it holds.
    @discardableResult
    public func advance(until condition: () -> Bool, limitMs: Int = 3_600_000) -> Bool {
        runDue()
        let end = now.adding(milliseconds: limitMs)
        while !condition() {
            guard let first = timers.first, first.deadline <= end else { return condition() }
            if first.deadline > now { now = first.deadline }
            runDue()
        }
        return true
    }
}
