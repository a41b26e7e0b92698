import COpenSSL

/// HMAC (RFC 2104) through OpenSSL.
public enum HMAC {
    /// HMAC-SHA256 of `data` under `key`: 32 bytes.
    public static func sha256(key: [UInt8], data: [UInt8]) throws(CryptoError) -> [UInt8] {
        // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        let result = key.withUnsafeBytes { key in
            data.withUnsafeBytes { data in Result { () throws(CryptoError) in try sha256(key: key, data: data) } }
        }
        return try result.get()
    }

    /// HMAC-SHA256 over borrowed bytes (no copy of `data`).
    public static func sha256(key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // An empty buffer may have a nil base address; OpenSSL wants a pointer even for 0 bytes.
        var zero: UInt8 = 0
        let ok = withUnsafeMutablePointer(to: &zero) { zeroPointer -> Bool in
            let keyPointer = key.baseAddress ?? UnsafeRawPointer(zeroPointer)
            let dataPointer = data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(zeroPointer)
            return COpenSSL.HMAC(EVP_sha256(), keyPointer, Int32(key.count), dataPointer, data.count, &out, &length) != nil
        }
        guard ok, length == 32 else { throw CryptoError.fromQueue("HMAC") }
        return Array(out.prefix(32))
    }
}
