import Glibc

/// A point on the monotonic clock (`CLOCK_MONOTONIC`), in nanoseconds.
///
/// Deadlines are for timers and timeouts only: they have no relation to wall-clock time and
/// do not jump when the system clock is changed.
public struct Deadline: Comparable, Hashable, Sendable {
    /// Nanoseconds since an unspecified start point (boot, on Linux).
    public var nanoseconds: UInt64

    /// Creates a deadline at an absolute monotonic time.
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The current monotonic time. Prefer `EventLoop.now` on the loop thread: it is cached per
    /// iteration and costs no syscall.
    public static func now() -> Deadline {
        var spec = timespec()
        // clock_gettime(CLOCK_MONOTONIC) cannot fail with a valid pointer; vDSO, no EINTR.
        _ = clock_gettime(CLOCK_MONOTONIC, &spec)
        return Deadline(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }

    /// This deadline moved by `milliseconds` (negative values move it back, saturating at 0).
    public func adding(milliseconds: Int) -> Deadline {
        if milliseconds >= 0 {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(UInt64(milliseconds).multipliedReportingOverflow(by: 1_000_000).partialValue)
            return Deadline(nanoseconds: overflow ? .max : sum)
        }
        let delta = UInt64(milliseconds.magnitude) &* 1_000_000
        return Deadline(nanoseconds: delta > nanoseconds ? 0 : nanoseconds - delta)
    }

    /// Whole milliseconds from `self` until `later`, rounded up; 0 if `later` is not after `self`.
    func milliseconds(until later: Deadline) -> Int {
        guard later.nanoseconds > nanoseconds else { return 0 }
        let delta = later.nanoseconds - nanoseconds
        let ms = (delta + 999_999) / 1_000_000
        return ms > UInt64(Int32.max) ? Int(Int32.max) : Int(ms)
    }

    /// Orders by time.
    public static func < (lhs: Deadline, rhs: Deadline) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
}
