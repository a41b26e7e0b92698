/// A point on a monotonic clock, in nanoseconds from an arbitrary origin.
///
/// The state machines never read a clock: the driver passes `now` with every input (for
/// example from `ContinuousClock`), so tests script time exactly.
public struct MonotonicInstant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// An instant `nanoseconds` after the origin.
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// An instant `milliseconds` after the origin (convenient in tests).
    public static func milliseconds(_ milliseconds: Int) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: UInt64(max(0, milliseconds)) &* 1_000_000)
    }

    /// This instant moved forward by `milliseconds` (saturating; negative values move nothing).
    public func advanced(byMilliseconds milliseconds: Int) -> MonotonicInstant {
        let delta = UInt64(max(0, milliseconds)).multipliedReportingOverflow(by: 1_000_000)
        let sum = nanoseconds.addingReportingOverflow(delta.partialValue)
        return MonotonicInstant(nanoseconds: delta.overflow || sum.overflow ? .max : sum.partialValue)
    }

    /// Whether `lhs` is earlier than `rhs`.
    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The instant in milliseconds, for logs.
    public var description: String { "\(nanoseconds / 1_000_000) ms" }
}
