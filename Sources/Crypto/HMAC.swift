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

/// An HMAC-SHA256 key prepared once: OpenSSL's MAC is fetched and keyed here, and each message
/// then only copies that keyed state (`EVP_Q_mac`, behind `HMAC.sha256`, looks the algorithm up
/// and derives the key pads on every call). Loop-thread only, like its owner.
public final class HMACSHA256Key {
    private let mac: OpaquePointer
    private let keyed: OpaquePointer

    /// Prepares `key` (any length, as HMAC allows).
    public init(key: [UInt8]) throws(CryptoError) {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw CryptoError.fromQueue("EVP_MAC_fetch") }
        guard let keyed = EVP_MAC_CTX_new(mac) else {
            EVP_MAC_free(mac)
            throw CryptoError.fromQueue("EVP_MAC_CTX_new")
        }
        self.mac = mac
        self.keyed = keyed
        let ok = "digest".withCString { name in
            "SHA256".withCString { digest in
                var params = [OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0), OSSL_PARAM_construct_end()]
                var zero: UInt8 = 0
                return key.withUnsafeBufferPointer { k in
                    EVP_MAC_init(keyed, k.baseAddress ?? withUnsafePointer(to: &zero) { $0 }, k.count, &params) == 1
                }
            }
        }
        guard ok else { throw CryptoError.fromQueue("EVP_MAC_init") }
    }

    deinit {
        EVP_MAC_CTX_free(keyed)
        EVP_MAC_free(mac)
    }

    /// The 32-byte MAC of the concatenation of `parts` (no copy of them is made).
    public func authenticate(_ parts: UnsafeRawBufferPointer...) throws(CryptoError) -> [UInt8] {
        guard let ctx = EVP_MAC_CTX_dup(keyed) else { throw CryptoError.fromQueue("EVP_MAC_CTX_dup") }
        defer { EVP_MAC_CTX_free(ctx) }
        for part in parts where part.count > 0 {
            guard EVP_MAC_update(ctx, part.baseAddress!.assumingMemoryBound(to: UInt8.self), part.count) == 1 else {
                throw CryptoError.fromQueue("EVP_MAC_update")
            }
        }
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        guard EVP_MAC_final(ctx, &out, &length, 32) == 1, length == 32 else { throw CryptoError.fromQueue("EVP_MAC_final") }
        return out
    }
}
