/// A fast pseudo-random generator (wyrand) seeded from the system generator: WebSocket masking keys
/// and backoff jitter need unpredictability against scripts and herds, not cryptographic strength,
/// and a `getrandom(2)` call per frame would cost more than the frame.
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0xA076_1D64_78BD_642F
        let m = state.multipliedFullWidth(by: state ^ 0xE703_7ED1_A0B4_28DB)
        return m.high ^ m.low
    }

    /// Four random bytes for a WebSocket masking key.
    mutating func maskKey() -> (UInt8, UInt8, UInt8, UInt8) {
        let v = next()
        return (UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24))
    }

    /// A uniform value in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
