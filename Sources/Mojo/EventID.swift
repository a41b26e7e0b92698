/// Event ids of the shared vocabulary (`evt_` + 32 hex digits).
///
/// Events whose payload identifies them (a message id, a timestamp) get an id derived from the
/// tenant, the event name and the payload bytes, so the same event replayed after a reconnect or a
/// restart keeps its id and receivers can deduplicate on it (the `webhook-id`). Events without such
/// a field (`typing:update`, `conversation:*`, `presence:list`) also mix in a per-process sequence
/// number, so two identical-looking events stay two events.
///
/// The id is a 128-bit non-cryptographic hash (two independent 64-bit lanes) of the whole
/// payload: the same tenant, name and payload bytes always give the same id; different payloads
/// give different ids with overwhelming probability (they are not meant to resist someone
/// crafting collisions: the server chooses the payloads). The payload is read eight bytes per
/// step (a multiply-rotate mix per lane), since this runs for every event: byte-at-a-time hashing
/// cost as much as the rest of `tail` for a 4 KB event. Ids are stable for a given build of the
/// hash; the function changed once (word-at-a-time), so an event replayed across that upgrade
/// gets a new id.
public struct EventIDGenerator: Sendable {
    private var sequence: UInt64 = 0
    private let salt: UInt64

    /// Creates a generator; `salt` varies the ids of unidentified events between processes.
    public init(salt: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        self.salt = salt
    }

    /// The id for one event.
    public mutating func next(tenant: String, type: String, data: UnsafeRawBufferPointer) -> String {
        var hasher = Hasher128()
        var tenant = tenant
        var type = type
        tenant.withUTF8 { hasher.field(UnsafeRawBufferPointer($0)) }
        type.withUTF8 { hasher.field(UnsafeRawBufferPointer($0)) }
        hasher.field(data)
        if !Self.isSelfIdentifying(type) {
            sequence &+= 1
            hasher.word(sequence ^ salt)
        }
        let (a, b) = hasher.finish()
        return String(unsafeUninitializedCapacity: 36) { out in
            out[0] = UInt8(ascii: "e"); out[1] = UInt8(ascii: "v"); out[2] = UInt8(ascii: "t"); out[3] = UInt8(ascii: "_")
            let hex: StaticString = "0123456789abcdef"
            hex.withUTF8Buffer { h in
                for i in 0..<16 {
                    out[4 + i] = h[Int(truncatingIfNeeded: (a >> UInt64(60 - 4 * i)) & 0xF)]
                    out[20 + i] = h[Int(truncatingIfNeeded: (b >> UInt64(60 - 4 * i)) & 0xF)]
                }
            }
            return 36
        }
    }

    /// Whether events named `type` carry an id or a timestamp in their payload (a switch: hashing
    /// the name for a set lookup cost more than the rest of this function).
    static func isSelfIdentifying(_ type: String) -> Bool {
        switch type {
        case "message:new", "message:sent", "messages:read", "presence:online", "presence:offline": true
        default: false
        }
    }
}

/// Two 64-bit lanes fed eight bytes at a time; each field is followed by its length, so field
/// boundaries count (`"ab" + "c"` differs from `"a" + "bc"`).
private struct Hasher128 {
    private var a: UInt64 = 0x243F_6A88_85A3_08D3
    private var b: UInt64 = 0x1319_8A2E_0370_7344

    @inline(__always) mutating func word(_ w: UInt64) {
        a = ((a ^ w) &* 0x9E37_79B9_7F4A_7C15).rotated(29) &+ b
        b = ((b ^ w) &* 0xC2B2_AE3D_27D4_EB4F).rotated(31) ^ a
    }

    mutating func field(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        var i = 0
        while i &+ 8 <= count {
            word(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i &+= 8
        }
        if i < count {
            var last: UInt64 = 0
            var shift: UInt64 = 0
            while i < count {
                last |= UInt64(bytes[i]) << shift
                shift &+= 8
                i &+= 1
            }
            word(last)
        }
        word(UInt64(count))
    }

    /// The two lanes, each through a full avalanche (MurmurHash3's fmix64), crossed.
    mutating func finish() -> (UInt64, UInt64) {
        var x = Self.fmix(a &+ b)
        var y = Self.fmix(b ^ a.rotated(17))
        x ^= y >> 7
        y &+= x
        return (x, y)
    }

    @inline(__always) private static func fmix(_ v: UInt64) -> UInt64 {
        var k = v
        k ^= k >> 33; k &*= 0xFF51_AFD7_ED55_8CCD
        k ^= k >> 33; k &*= 0xC4CE_B9FE_1A85_EC53
        k ^= k >> 33
        return k
    }
}

private extension UInt64 {
    @inline(__always) func rotated(_ n: UInt64) -> UInt64 { (self << n) | (self >> (64 - n)) }
}
