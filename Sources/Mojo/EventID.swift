/// Event ids of the shared vocabulary (`evt_` + 32 hex digits).
///
/// Events whose payload identifies them (a message id, a timestamp) get an id derived from the
/// tenant, the event name and the payload bytes, so the same event replayed after a reconnect or a
/// restart keeps its id and receivers can deduplicate on it (the `webhook-id`). Events without such
/// a field (`typing:update`, `conversation:*`, `presence:list`) also mix in a per-process sequence
/// number, so two identical-looking events stay two events.
public struct EventIDGenerator: Sendable {
    private var sequence: UInt64 = 0
    private let salt: UInt64

    /// Creates a generator; `salt` varies the ids of unidentified events between processes.
    public init(salt: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        self.salt = salt
    }

    /// The id for one event.
    public mutating func next(tenant: String, type: String, data: UnsafeRawBufferPointer) -> String {
        var a: UInt64 = 0xCBF2_9CE4_8422_2325
        var b: UInt64 = 0x6C62_272E_07BB_0142
        @inline(__always) func mix(_ byte: UInt8) {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 ^ (b >> 29)
        }
        for byte in tenant.utf8 { mix(byte) }
        mix(0)
        for byte in type.utf8 { mix(byte) }
        mix(0)
        for byte in data { mix(byte) }
        if !Self.selfIdentifying.contains(type) {
            sequence &+= 1
            for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: (sequence ^ salt) >> UInt64(shift))) }
        }
        a ^= a >> 33; a &*= 0xFF51_AFD7_ED55_8CCD; a ^= a >> 33
        b ^= b >> 33; b &*= 0xC4CE_B9FE_1A85_EC53; b ^= b >> 33
        var out = [UInt8](repeating: 0, count: 36)
        out[0] = UInt8(ascii: "e"); out[1] = UInt8(ascii: "v"); out[2] = UInt8(ascii: "t"); out[3] = UInt8(ascii: "_")
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { h in
            for i in 0..<16 {
                out[4 + i] = h[Int((a >> UInt64(60 - 4 * i)) & 0xF)]
                out[20 + i] = h[Int((b >> UInt64(60 - 4 * i)) & 0xF)]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Event names whose payload carries an id or a timestamp.
    static let selfIdentifying: Set<String> = [
        "message:new", "message:sent", "messages:read", "presence:online", "presence:offline",
    ]
}
