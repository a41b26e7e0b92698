/// A cursor over UTF-8 JSON text: the lexical layer shared by the value parser and the scanner.
///
/// Every method validates what it consumes, so skipping a value is as strict as parsing it.
struct JSONReader {
    let base: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= base.count }

    /// The byte under the cursor; callers check ``isAtEnd`` first.
    @inline(__always) var current: UInt8 { base[offset] }

    @inline(__always) mutating func advance(_ n: Int = 1) { offset += n }

    /// Skips RFC 8259 whitespace (space, tab, line feed, carriage return).
    @inline(__always) mutating func skipWhitespace() {
        while offset < base.count {
            switch base[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// Consumes `byte` or throws.
    @inline(__always) mutating func expect(_ byte: UInt8) throws(JSONError) {
        guard offset < base.count else { throw .unexpectedEnd(offset: offset) }
        guard base[offset] == byte else { throw .unexpectedByte(base[offset], offset: offset) }
        offset += 1
    }

    /// Consumes `true`, `false` or `null` (cursor on its first letter) and returns its value.
    mutating func scanLiteral() throws(JSONError) -> JSONValue {
        let start = offset
        let word: StaticString
        let value: JSONValue
        switch base[offset] {
        case UInt8(ascii: "t"): word = "true"; value = .bool(true)
        case UInt8(ascii: "f"): word = "false"; value = .bool(false)
        default: word = "null"; value = .null
        }
        let length = word.utf8CodeUnitCount
        for i in 0..<length {
            guard start + i < base.count else { throw .unexpectedEnd(offset: start + i) }
            let expected = word.utf8Start[i]
            guard base[start + i] == expected else { throw .unexpectedByte(base[start + i], offset: start + i) }
        }
        offset = start + length
        return value
    }

    /// Consumes a number (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`), returning its range.
    mutating func scanNumber() throws(JSONError) -> Range<Int> {
        let start = offset
        let end = base.count
        if offset < end, base[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < end else { throw .unexpectedEnd(offset: offset) }
        if base[offset] == UInt8(ascii: "0") {
            offset += 1
        } else if isDigit(base[offset]) {
            while offset < end, isDigit(base[offset]) { offset += 1 }
        } else {
            throw .invalidNumber(offset: start)
        }
        if offset < end, base[offset] == UInt8(ascii: ".") {
            offset += 1
            guard offset < end, isDigit(base[offset]) else { throw .invalidNumber(offset: start) }
            while offset < end, isDigit(base[offset]) { offset += 1 }
        }
        if offset < end, base[offset] | 0x20 == UInt8(ascii: "e") {
            offset += 1
            if offset < end, base[offset] == UInt8(ascii: "+") || base[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < end, isDigit(base[offset]) else { throw .invalidNumber(offset: start) }
            while offset < end, isDigit(base[offset]) { offset += 1 }
        }
        return start..<offset
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    /// Consumes a string literal (cursor on the opening quote), validating escapes and UTF-8.
    /// Returns the range of the content between the quotes and whether it contains escapes.
    mutating func scanString() throws(JSONError) -> (content: Range<Int>, hasEscapes: Bool) {
        offset += 1
        let start = offset
        let end = base.count
        var hasEscapes = false
        while offset < end {
            skipPlainASCII()
            guard offset < end else { break }
            let b = base[offset]
            if b == UInt8(ascii: "\"") {
                offset += 1
                return (start..<(offset - 1), hasEscapes)
            } else if b == UInt8(ascii: "\\") {
                hasEscapes = true
                _ = try scanEscape()
            } else if b < 0x20 {
                throw .controlCharacter(offset: offset)
            } else if b < 0x80 {
                offset += 1
            } else {
                try scanUTF8Sequence()
            }
        }
        throw .unexpectedEnd(offset: offset)
    }

    /// Skips the run of plain string bytes under the cursor (printable ASCII other than `"` and
    /// `\`), eight at a time, and stops on the first byte that needs a closer look (or fewer than
    /// eight bytes before the end; ``scanString()`` handles those one at a time).
    ///
    /// Most string content is plain ASCII, and the byte-at-a-time loop costs ~26 instructions per
    /// byte; this costs under two.
    @inline(__always) mutating func skipPlainASCII() {
        while offset &+ 8 <= base.count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let flags = SWAR.flags(word, alsoEqualTo: nil)
            if flags != 0 {
                offset &+= flags.trailingZeroBitCount >> 3
                return
            }
            offset &+= 8
        }
    }

    /// Consumes one escape sequence (cursor on the backslash) and returns the scalar it denotes.
    mutating func scanEscape() throws(JSONError) -> Unicode.Scalar {
        let start = offset
        guard offset + 1 < base.count else { throw .unexpectedEnd(offset: base.count) }
        let kind = base[offset + 1]
        offset += 2
        switch kind {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try scanHex4(escapeStart: start)
            switch unit {
            case 0xD800...0xDBFF:
                guard offset + 1 < base.count, base[offset] == UInt8(ascii: "\\"), base[offset + 1] == UInt8(ascii: "u") else {
                    throw .loneSurrogate(offset: start)
                }
                let lowStart = offset
                offset += 2
                let low = try scanHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else { throw .loneSurrogate(offset: start) }
                let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                guard let scalar = Unicode.Scalar(value) else { throw .loneSurrogate(offset: start) }
                return scalar
            case 0xDC00...0xDFFF:
                throw .loneSurrogate(offset: start)
            default:
                guard let scalar = Unicode.Scalar(unit) else { throw .loneSurrogate(offset: start) }
                return scalar
            }
        default:
            throw .invalidEscape(offset: start)
        }
    }

    private mutating func scanHex4(escapeStart: Int) throws(JSONError) -> UInt16 {
        guard offset + 4 <= base.count else { throw .unexpectedEnd(offset: base.count) }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let b = base[offset]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw .invalidEscape(offset: escapeStart)
            }
            unit = unit << 4 | UInt16(digit)
            offset += 1
        }
        return unit
    }

    /// Consumes one multi-byte UTF-8 sequence (cursor on its lead byte), per Unicode Table 3-7.
    mutating func scanUTF8Sequence() throws(JSONError) {
        let start = offset
        let lead = base[offset]
        let count: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; high = 0x9F
        case 0xF0: count = 4; low = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; high = 0x8F
        default: throw .invalidUTF8(offset: start)
        }
        guard start + count <= base.count else { throw .invalidUTF8(offset: start) }
        let second = base[start + 1]
        guard second >= low, second <= high else { throw .invalidUTF8(offset: start) }
        var i = 2
        while i < count {
            guard base[start + i] & 0xC0 == 0x80 else { throw .invalidUTF8(offset: start) }
            i += 1
        }
        offset = start + count
    }

    /// Decodes the content of a string literal scanned by ``scanString()``.
    func decodeString(_ content: Range<Int>, hasEscapes: Bool) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: base[content])
        guard hasEscapes else { return String(decoding: slice, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(content.count)
        var reader = JSONReader(base, offset: content.lowerBound)
        while reader.offset < content.upperBound {
            let b = base[reader.offset]
            if b == UInt8(ascii: "\\") {
                // Already validated by scanString, so the error branch is unreachable.
                guard let scalar = try? reader.scanEscape() else { break }
                UTF8.encode(scalar) { bytes.append($0) }
            } else {
                bytes.append(b)
                reader.offset += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Tests eight bytes at once for the bytes JSON strings care about (SIMD within a register).
///
/// The classic "has a zero byte" test: `(v - 0x01…) & ~v & 0x80…` sets the high bit of the zero
/// bytes of `v`. Its lowest set bit is always exact (a borrow only travels upwards from a byte
/// that really is zero; higher flags may be false positives), so with a little-endian load
/// `trailingZeroBitCount / 8` is the index of the first special byte.
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// High bits set on bytes equal to `byte` (lowest one exact).
    @inline(__always) static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs
    }

    /// A non-zero result flags the first byte of `word` (lowest bits first) that is `"`, `\`,
    /// below 0x20, or equal to `extra`; with `extra == nil`, any byte >= 0x80 instead.
    @inline(__always) static func flags(_ word: UInt64, alsoEqualTo extra: UInt8?) -> UInt64 {
        var flags = equal(word, UInt8(ascii: "\"")) | equal(word, UInt8(ascii: "\\"))
            | ((word &- ones &* 0x20) & ~word & highs)
        if let extra { flags |= equal(word, extra) } else { flags |= word & highs }
        return flags
    }
}
