import COpenSSL
import Glibc

/// One client-side `SSL` object on a non-blocking socket.
///
/// Each operation reports what OpenSSL needs next (`wantRead`/`wantWrite`) so the stream can
/// set its epoll interest; failures come back as a `TransportError.Kind` and OpenSSL's text.
final class TLSSession {
    /// What a handshake, read or write step produced.
    enum Outcome {
        /// Bytes transferred (0 for a completed handshake).
        case done(Int)
        /// Retry when the socket is readable.
        case wantRead
        /// Retry when the socket is writable.
        case wantWrite
        /// The peer sent `close_notify` (reads only).
        case closed
        /// A fatal error: the connection must be dropped.
        case failed(TransportError.Kind, String)
    }

    private let ssl: OpaquePointer
    private let verifyPeer: Bool

    /// Creates the session for `fd`, with SNI and name verification for `serverName`.
    init(context: TLSContext, fd: Int32, serverName: String, verifyPeer: Bool) throws(TLSSetupError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw TLSSetupError(message: openSSLErrorMessage(fallback: "SSL_new failed"))
        }
        self.ssl = ssl
        self.verifyPeer = verifyPeer
        guard SSL_set_fd(ssl, fd) == 1 else {
            throw TLSSetupError(message: openSSLErrorMessage(fallback: "SSL_set_fd failed"))
        }
        let isIP = Self.isIPLiteral(serverName)
        // RFC 6066: SNI carries host names only, never IP literals.
        if !isIP && !serverName.isEmpty && mojo_SSL_set_tlsext_host_name(ssl, serverName) != 1 {
            throw TLSSetupError(message: openSSLErrorMessage(fallback: "cannot set SNI to \(serverName)"))
        }
        if verifyPeer && mojo_SSL_set1_host_or_ip(ssl, serverName, isIP ? 1 : 0) != 1 {
            throw TLSSetupError(message: openSSLErrorMessage(fallback: "cannot set expected name \(serverName)"))
        }
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
    }

    /// The ALPN protocol the server selected, if any.
    var negotiatedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// One step of the handshake.
    func handshake() -> Outcome {
        ERR_clear_error()
        let rc = SSL_connect(ssl)
        return rc == 1 ? .done(0) : outcome(forResult: rc, handshaking: true)
    }

    /// Decrypts into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return rc > 0 ? .done(Int(rc)) : outcome(forResult: rc, handshaking: false)
    }

    /// Encrypts and sends a prefix of `bytes` (partial writes are enabled).
    func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard !bytes.isEmpty else { return .done(0) }
        ERR_clear_error()
        let rc = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        return rc > 0 ? .done(Int(rc)) : outcome(forResult: rc, handshaking: false)
    }

    /// Sends `close_notify` once, best effort: never waits for the peer's reply.
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func outcome(forResult rc: Int32, handshaking: Bool) -> Outcome {
        let savedErrno = Glibc.errno
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SYSCALL:
            let queued = openSSLErrorMessage(fallback: "")
            if savedErrno != 0 && savedErrno != EAGAIN {
                let error = TransportError(IOError(errno: savedErrno, function: handshaking ? "SSL_connect" : "SSL_read/SSL_write"), peer: "")
                return .failed(error.kind, error.message)
            }
            return .failed(.closedByPeer, queued.isEmpty ? "connection closed without TLS close_notify" : queued)
        default:
            if handshaking && verifyPeer {
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK {
                    ERR_clear_error()
                    return .failed(.tls, "certificate verify failed: " + String(cString: X509_verify_cert_error_string(verify)))
                }
            }
            let code = ERR_peek_error()
            if mojo_ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING {
                ERR_clear_error()
                return .failed(.closedByPeer, handshaking
                    ? "connection closed during the TLS handshake"
                    : "connection closed without TLS close_notify")
            }
            return .failed(.tls, openSSLErrorMessage(fallback: "TLS error"))
        }
    }

    /// Whether `name` is an IPv4 or IPv6 address literal.
    static func isIPLiteral(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
