import COpenSSL
import Glibc

/// The text of OpenSSL's thread-local error queue (oldest first, joined by "; "), which it
/// also clears. `fallback` is used when the queue is empty.
func openSSLErrorMessage(fallback: String) -> String {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages.isEmpty ? fallback : messages.joined(separator: "; ")
}

/// An `SSL_CTX` configured from a `TLSConfiguration`: client method, TLS 1.2 minimum, partial
/// and moving-buffer writes, peer verification against `caFile` or the system store, ALPN.
///
/// One per configuration per loop (see `EventLoop.tlsContext(for:)`); freed with the loop.
final class TLSContext {
    let context: OpaquePointer

    /// Builds the context; the error message is OpenSSL's (e.g. a missing or invalid CA file).
    init(_ configuration: TLSConfiguration) throws(TLSSetupError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSSetupError(message: openSSLErrorMessage(fallback: "SSL_CTX_new failed"))
        }
        self.context = context
        guard mojo_SSL_CTX_set_min_proto_version(context, mojo_TLS1_2_VERSION()) == 1 else {
            throw TLSSetupError(message: openSSLErrorMessage(fallback: "cannot set minimum TLS version"))
        }
        _ = mojo_SSL_CTX_set_mode(context, mojo_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER())

        if configuration.verifyPeer {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            if let caFile = configuration.caFile {
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    throw TLSSetupError(message: "cannot load CA file \(caFile): "
                        + openSSLErrorMessage(fallback: "SSL_CTX_load_verify_locations failed"))
                }
            } else if let directory = Self.systemCADirectory(), SSL_CTX_load_verify_dir(context, directory) == 1 {
                // The system store as a hashed directory: a peer's CA is looked up by subject hash
                // during the handshake, instead of parsing the whole bundle (~140 certificates,
                // ~1.4 MB resident) when the context is made.
            } else {
                ERR_clear_error()
                guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw TLSSetupError(message: openSSLErrorMessage(fallback: "cannot load the system CA store"))
                }
            }
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }

        if !configuration.alpn.isEmpty {
            guard let wire = Self.alpnWireFormat(configuration.alpn) else {
                throw TLSSetupError(message: "invalid ALPN protocol list \(configuration.alpn)")
            }
            // SSL_CTX_set_alpn_protos returns 0 on success (unlike most of OpenSSL).
            let rc = wire.withUnsafeBufferPointer { SSL_CTX_set_alpn_protos(context, $0.baseAddress, UInt32($0.count)) }
            guard rc == 0 else {
                throw TLSSetupError(message: openSSLErrorMessage(fallback: "SSL_CTX_set_alpn_protos failed"))
            }
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// OpenSSL's default certificate directory (or `SSL_CERT_DIR`) when it holds hashed links
    /// (`9d04f354.0`, made by c_rehash / update-ca-certificates); nil when it does not, or when
    /// `SSL_CERT_FILE` names a bundle to use instead: then the default paths apply.
    static func systemCADirectory() -> String? {
        if getenv("SSL_CERT_FILE") != nil { return nil }
        let directory = getenv("SSL_CERT_DIR").map { String(cString: $0) } ?? String(cString: X509_get_default_cert_dir())
        return hasHashedCertificates(directory) ? directory : nil
    }

    /// Whether `directory` has at least one entry named like a hashed certificate link.
    static func hasHashedCertificates(_ directory: String) -> Bool {
        guard case .success(let names) = DirectoryReader.list(path: directory) else { return false }
        return names.contains(where: isHashedCertificateName)
    }

    /// `[0-9a-f]{8}.[0-9]+`: the name OpenSSL's hashed-directory lookup opens.
    static func isHashedCertificateName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count >= 10, bytes[8] == UInt8(ascii: ".") else { return false }
        let isHex = { (b: UInt8) in (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) }
        return bytes[..<8].allSatisfy(isHex) && bytes[9...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// ALPN's wire format: each protocol as a length byte followed by its bytes; `nil` if a
    /// protocol is empty or longer than 255 bytes.
    static func alpnWireFormat(_ protocols: [String]) -> [UInt8]? {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 255 else { return nil }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        return wire
    }
}

/// A TLS configuration OpenSSL would not accept.
struct TLSSetupError: Error {
    var message: String
}

extension EventLoop {
    /// The shared context for `configuration` on this loop, created on first use.
    func tlsContext(for configuration: TLSConfiguration) throws(TLSSetupError) -> TLSContext {
        let key = configuration.contextKey
        if let cached = tlsContexts[key] { return cached }
        let context = try TLSContext(key)
        tlsContexts[key] = context
        return context
    }
}
