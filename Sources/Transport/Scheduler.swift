/// Timers and the monotonic clock, as the components that only need time see them: the
/// `EventLoop` in the daemon, a virtual clock in unit tests (timers advance on command, so
/// backoff, retry schedules and timeouts are tested without sleeping).
///
/// Loop-thread only, like the loop itself.
public protocol Scheduler: AnyObject {
    /// The monotonic time now (the loop's per-iteration cache).
    var now: Deadline { get }
    /// Runs `body` at (or soon after) `deadline`; equal deadlines fire in scheduling order.
    @discardableResult
    func schedule(at deadline: Deadline, _ body: @escaping () -> Void) -> TimerID
    /// Runs `body` after `afterMilliseconds` (0 = on the next iteration).
    @discardableResult
    func schedule(afterMilliseconds: Int, _ body: @escaping () -> Void) -> TimerID
    /// Cancels a timer; a no-op if it already fired or was cancelled.
    func cancel(_ id: TimerID)
    /// Runs `body` once the callbacks of the current turn have run.
    func atEndOfTurn(_ body: @escaping () -> Void)
}

extension EventLoop: Scheduler {}
