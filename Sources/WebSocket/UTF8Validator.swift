/// An incremental UTF-8 validator (Unicode 15, Table 3-7 "Well-Formed UTF-8 Byte Sequences").
///
/// Rejects overlong forms, UTF-16 surrogates (U+D800-U+DFFF) and code points above U+10FFFF, and
/// fails as soon as a byte cannot start or continue a well-formed sequence, so a text message split
/// across fragments is rejected on the fragment that breaks it (RFC 6455 §8.1 "fail fast").
struct UTF8Validator: Sendable {
    /// Continuation bytes still expected by the sequence in progress.
    private var remaining = 0
    /// Inclusive bounds for the next continuation byte; narrower than 0x80...0xBF only right after
    /// E0, ED, F0 and F4, which is where overlongs, surrogates and > U+10FFFF are excluded.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// Whether the bytes fed so far end on a character boundary.
    var isComplete: Bool { remaining == 0 }

    /// Feeds `bytes`; returns `false` at the first byte that makes the input ill-formed.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return true }
        var index = 0
        while index < count {
            if remaining == 0 {
                // ASCII runs are the common case: skip them eight bytes at a time.
                while index + 8 <= count,
                      base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                }
                if index == count { break }
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                index += 1
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: remaining = 1
                case 0xE0: remaining = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: remaining = 2
                case 0xED: remaining = 2; upper = 0x9F
                case 0xF0: remaining = 3; lower = 0x90
                case 0xF1...0xF3: remaining = 3
                case 0xF4: remaining = 3; upper = 0x8F
                default: return false
                }
            } else {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                index += 1
                guard byte >= lower, byte <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                remaining -= 1
            }
        }
        return true
    }

    /// Feeds `bytes`; returns `false` at the first byte that makes the input ill-formed.
    mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Whether `bytes` is, on its own, complete well-formed UTF-8.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(bytes) && validator.isComplete
    }
}
