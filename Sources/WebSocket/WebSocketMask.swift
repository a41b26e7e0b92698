/// XOR masking of payload bytes with a 4-byte key (RFC 6455 §5.3), eight bytes at a time.
enum WebSocketMask {
    /// Masks (or unmasks: the operation is its own inverse) `bytes` in place, starting at key offset 0.
    static func apply(_ key: (UInt8, UInt8, UInt8, UInt8), to bytes: UnsafeMutableRawBufferPointer) {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return }
        // The key's bytes in memory order; both halves hold the same value so byte order cannot matter.
        let key32 = withUnsafeBytes(of: key) { $0.loadUnaligned(as: UInt32.self) }
        let key64 = UInt64(key32) | (UInt64(key32) << 32)
        var index = 0
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            base.storeBytes(of: word ^ key64, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        withUnsafeBytes(of: key) { keyBytes in
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                base.storeBytes(of: byte ^ keyBytes[index & 3], toByteOffset: index, as: UInt8.self)
                index += 1
            }
        }
    }
}
