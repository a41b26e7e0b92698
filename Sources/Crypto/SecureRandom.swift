import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG (seeded by the kernel).
public enum SecureRandom {
    /// `count` random bytes. Throws if the generator is not seeded or fails: there is no
    /// weaker fallback.
    public static func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        guard count > 0 else { return [] }
        guard count <= Int(Int32.max) else { throw CryptoError(function: "RAND_bytes", message: "\(count) bytes requested") }
        var out = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&out, Int32(count)) == 1 else { throw CryptoError.fromQueue("RAND_bytes") }
        return out
    }
}
