import COpenSSL

/// SHA-256 (FIPS 180-4) through OpenSSL.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) throws(CryptoError) -> [UInt8] {
        // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        try bytes.withUnsafeBytes { buffer in Result { () throws(CryptoError) in try hash(buffer) } }.get()
    }

    /// The 32-byte digest of borrowed bytes.
    public static func hash(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        var zero: UInt8 = 0
        let ok = withUnsafeMutablePointer(to: &zero) { zeroPointer in
            EVP_Digest(bytes.baseAddress ?? UnsafeRawPointer(zeroPointer), bytes.count, &out, &length, EVP_sha256(), nil) == 1
        }
        guard ok, length == 32 else { throw CryptoError.fromQueue("EVP_Digest") }
        return Array(out.prefix(32))
    }
}
