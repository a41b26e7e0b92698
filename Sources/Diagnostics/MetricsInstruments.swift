/// A monotonically increasing value (events, deliveries, retries). Loop-thread only, like its
/// `MetricsRegistry`; a handle is cheap to keep and to update.
public final class Counter {
    /// The series' labels, in registration order.
    public let labels: [(String, String)]
    /// The current value.
    public private(set) var value: Double = 0

    init(labels: [(String, String)]) {
        self.labels = labels
    }

    /// Adds `amount`; negative or non-finite amounts are ignored (a counter never goes down).
    public func increment(by amount: Double = 1) {
        guard amount > 0, amount.isFinite else { return }
        value += amount
    }
}

/// A value that goes up and down (queue depth, oldest item age). Loop-thread only.
public final class Gauge {
    /// The series' labels, in registration order.
    public let labels: [(String, String)]
    /// The current value.
    public private(set) var value: Double = 0

    init(labels: [(String, String)]) {
        self.labels = labels
    }

    /// Sets the value.
    public func set(_ newValue: Double) {
        value = newValue
    }

    /// Adds `amount` (may be negative).
    public func increment(by amount: Double = 1) {
        value += amount
    }

    /// Subtracts `amount`.
    public func decrement(by amount: Double = 1) {
        value -= amount
    }
}

/// Observations counted into fixed buckets (latencies, sizes), with their sum and count.
/// Loop-thread only.
public final class Histogram {
    /// Latency buckets in seconds, 0.5 ms to 10 s.
    public static let defaultLatencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// The series' labels, in registration order.
    public let labels: [(String, String)]
    /// Upper bounds, ascending and finite (`+Inf` is implicit).
    public let buckets: [Double]
    /// Observations per bucket (not cumulative); the last slot counts values above every bound.
    public private(set) var bucketCounts: [UInt64]
    /// The sum of all observations.
    public private(set) var sum: Double = 0
    /// The number of observations.
    public private(set) var count: UInt64 = 0

    init(labels: [(String, String)], buckets: [Double]) {
        self.labels = labels
        self.buckets = buckets
        bucketCounts = [UInt64](repeating: 0, count: buckets.count + 1)
    }

    /// Records one observation; NaN is ignored.
    public func observe(_ value: Double) {
        guard !value.isNaN else { return }
        let index = buckets.firstIndex { value <= $0 } ?? buckets.count
        bucketCounts[index] += 1
        sum += value
        count += 1
    }
}

/// Why a metric could not be registered. These are programming errors in the caller's metric
/// definitions, reported at start-up rather than crashing.
public enum MetricsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The metric name is not `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    case invalidName(String)
    /// A label name is not `[a-zA-Z_][a-zA-Z0-9_]*`, starts with `__`, repeats, or is `le` on a histogram.
    case invalidLabelName(String)
    /// The name is already registered with another type.
    case typeMismatch(name: String)
    /// Histogram buckets are empty, not ascending, not finite, or differ from the family's.
    case invalidBuckets(name: String)

    /// A message naming the offending metric.
    public var description: String {
        switch self {
        case .invalidName(let name): return "invalid metric name \(name)"
        case .invalidLabelName(let name): return "invalid label name \(name)"
        case .typeMismatch(let name): return "metric \(name) already registered with another type"
        case .invalidBuckets(let name): return "invalid or mismatched histogram buckets for \(name)"
        }
    }
}
