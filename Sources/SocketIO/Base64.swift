/// Standard base64 (RFC 4648 §4, with padding), as Engine.IO polling uses for binary packets.
enum Base64 {
    /// The offset of the first byte that is not valid base64.
    struct BadByte: Error, Equatable {
        let offset: Int
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Appends the padded base64 text of `bytes`.
    static func encode(_ bytes: some Collection<UInt8>, into out: inout [UInt8]) {
        var iterator = bytes.makeIterator()
        while let a = iterator.next() {
            let b = iterator.next()
            let c = iterator.next()
            out.append(alphabet[Int(a >> 2)])
            out.append(alphabet[Int((a & 0x03) << 4 | (b ?? 0) >> 4)])
            out.append(b.map { alphabet[Int(($0 & 0x0F) << 2 | (c ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            out.append(c.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
    }

    /// The base64 text of `bytes` as a string.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        encode(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base64 text; padding is optional, anything else outside the alphabet fails.
    /// Throws the offset (within `text`) of the first bad byte.
    static func decode(_ text: UnsafeRawBufferPointer) throws(BadByte) -> [UInt8] {
        var end = text.count
        if end > 0, text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        if end > 0, text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        guard end % 4 != 1 else { throw BadByte(offset: end - 1) }
        if end < text.count, text.count % 4 != 0 { throw BadByte(offset: end) }
        var out: [UInt8] = []
        out.reserveCapacity(end * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for i in 0..<end {
            let v = reverse[Int(text[i])]
            guard v != 0xFF else { throw BadByte(offset: i) }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
