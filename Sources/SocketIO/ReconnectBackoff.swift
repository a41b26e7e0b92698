/// The reconnection delay schedule of socket.io-client (its `Backoff` helper), with the
/// random input injected so tests are exact.
///
/// `ms = base * 2^attempt; dev = floor(r * randomization * ms);
/// ms = floor(r * 10) is even ? ms - dev : ms + dev; delay = min(ms, max)` (truncated to an
/// integer), then `attempt += 1`. ``reset()`` after a successful connect.
public struct ReconnectBackoff: Sendable, Equatable {
    /// The first delay before jitter, in milliseconds.
    public let base: Int
    /// The cap, in milliseconds.
    public let max: Int
    /// The jitter factor in `0...1`.
    public let randomization: Double
    /// How many delays have been handed out since the last reset.
    public private(set) var attempts: Int = 0

    /// socket.io-client's defaults: 1 s doubling to 5 s, ±50 % jitter.
    public init(base: Int = 1000, max: Int = 5000, randomization: Double = 0.5) {
        self.base = Swift.max(0, base)
        self.max = Swift.max(0, max)
        self.randomization = Swift.min(1, Swift.max(0, randomization))
    }

    /// The slower policy for refusals by the server (CONNECT_ERROR, usually auth): retrying a
    /// refused token quickly only hammers the server, so start at 5 s and cap at 60 s.
    public static var authRefusal: ReconnectBackoff { ReconnectBackoff(base: 5000, max: 60_000, randomization: 0.5) }

    /// The next delay in milliseconds; `random` is a uniform value in `0..<1` (`Double.random(in:)`).
    public mutating func nextDelay(random: Double) -> Int {
        // Past 2^60 every delay is capped anyway; keep the numbers finite and within Int.
        var ms = Swift.min(Double(base) * Double.pow2(Swift.min(attempts, 60)), 1e18)
        attempts += 1
        if randomization > 0 {
            let r = Swift.min(Swift.max(random, 0), 1)
            // Int(_:) truncates, which is floor for these non-negative values (and needs no libm).
            let deviation = Double(Int(r * randomization * ms))
            ms = Int(r * 10) % 2 == 0 ? ms - deviation : ms + deviation
        }
        return Int(Swift.min(ms, Double(max)))
    }

    /// Starts the schedule again (after a successful connect).
    public mutating func reset() {
        attempts = 0
    }
}

extension Double {
    /// 2 raised to a small non-negative integer power, exactly.
    fileprivate static func pow2(_ n: Int) -> Double {
        Double(sign: .plus, exponent: n, significand: 1)
    }
}
