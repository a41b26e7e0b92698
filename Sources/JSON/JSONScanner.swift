/// Raw JSON operations that work on bytes without building ``JSONValue``s: the hot path of
/// event decoding.
public enum JSONScanner {
    /// Validates that the whole input is one JSON array (whitespace allowed around it) and
    /// returns the byte ranges of its top-level elements, without surrounding whitespace.
    ///
    /// Validation is as strict as ``JSONValue/init(parsing:)-(Collection<UInt8>)``: every
    /// element is checked completely, including UTF-8 and escapes.
    /// - Throws: ``JSONError/unexpectedType(expected:offset:)`` when the value is not an array,
    ///   or any syntax error.
    public static func arrayElements(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> [Range<Int>] {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        guard !reader.isAtEnd else { throw .unexpectedEnd(offset: reader.offset) }
        guard reader.current == UInt8(ascii: "[") else {
            let start = reader.offset
            try reader.skipValue(depth: 0)
            throw .unexpectedType(expected: "an array", offset: start)
        }
        reader.advance()
        var ranges: [Range<Int>] = []
        reader.skipWhitespace()
        if !reader.isAtEnd, reader.current == UInt8(ascii: "]") {
            reader.advance()
        } else {
            ranges.reserveCapacity(4)
            while true {
                reader.skipWhitespace()
                let start = reader.offset
                try reader.skipValue(depth: 1)
                ranges.append(start..<reader.offset)
                reader.skipWhitespace()
                guard !reader.isAtEnd else { throw .unexpectedEnd(offset: reader.offset) }
                if reader.current == UInt8(ascii: ",") {
                    reader.advance()
                } else if reader.current == UInt8(ascii: "]") {
                    reader.advance()
                    break
                } else {
                    throw .unexpectedByte(reader.current, offset: reader.offset)
                }
            }
        }
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw .trailingData(offset: reader.offset) }
        return ranges
    }

    /// Validates that the whole input is one JSON value and returns its first non-whitespace byte
    /// (`{`, `[`, `"`, `t`, `f`, `n`, `-` or a digit), which tells its type.
    public static func validate(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> UInt8 {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        guard !reader.isAtEnd else { throw .unexpectedEnd(offset: reader.offset) }
        let first = reader.current
        try reader.skipValue(depth: 0)
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw .trailingData(offset: reader.offset) }
        return first
    }

    /// Decodes a JSON string literal (quotes included, no surrounding whitespace), or returns
    /// `nil` when `bytes` is not exactly one valid string literal.
    public static func decodeString(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let first = bytes.first, first == UInt8(ascii: "\"") else { return nil }
        var reader = JSONReader(bytes)
        guard let (content, hasEscapes) = try? reader.scanString(), reader.isAtEnd else { return nil }
        return reader.decodeString(content, hasEscapes: hasEscapes)
    }

    /// Appends `s` as a JSON string literal, quotes included (escaping as
    /// ``JSONValue/serialize(into:)`` does).
    public static func appendEscaped(_ s: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            var i = 0
            let count = utf8.count
            while i < count {
                // Runs of bytes that need no escaping are copied as they are, eight at a time.
                while i &+ 8 <= count {
                    let word = UInt64(littleEndian: UnsafeRawBufferPointer(utf8).loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    let flags = SWAR.flags(word, alsoEqualTo: 0xE2)
                    if flags != 0 { i &+= flags.trailingZeroBitCount >> 3; break }
                    i &+= 8
                }
                guard i < count else { break }
                let b = utf8[i]
                let escape: StaticString?
                var width = 1
                switch b {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case 0x08: escape = "\\b"
                case 0x0C: escape = "\\f"
                case 0x00..<0x20: escape = nil
                case 0xE2 where i + 2 < count && utf8[i + 1] == 0x80 && (utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9):
                    escape = utf8[i + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                    width = 3
                default:
                    i += 1
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                if let escape {
                    bytes.append(contentsOf: UnsafeBufferPointer(start: escape.utf8Start, count: escape.utf8CodeUnitCount))
                } else {
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hex.utf8Start[Int(b >> 4)])
                    bytes.append(hex.utf8Start[Int(b & 0x0F)])
                }
                i += width
                runStart = i
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
