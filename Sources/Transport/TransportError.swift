import Glibc

/// Why a `ByteStream` failed to connect or was closed abnormally.
public struct TransportError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The broad class of failure, for retry policies and user-facing messages.
    public enum Kind: Sendable, Equatable {
        /// The host name did not resolve (`getaddrinfo` failed).
        case dnsFailure
        /// The peer actively refused the TCP connection (`ECONNREFUSED`).
        case connectionRefused
        /// No route to the network or host (`ENETUNREACH`, `EHOSTUNREACH`).
        case unreachable
        /// The connect timeout elapsed, or the kernel timed the connection out.
        case timedOut
        /// TLS handshake or record-layer failure, including certificate verification.
        case tls
        /// Any other system-call failure.
        case io
        /// The peer reset or abandoned the connection (`ECONNRESET`, EOF during the handshake,
        /// TLS EOF without `close_notify`).
        case closedByPeer
    }

    /// The broad class of failure.
    public var kind: Kind
    /// `"host:port"` as passed to `connect`.
    public var peer: String
    /// Human-readable detail from the OS or library, e.g.
    /// `"certificate verify failed: self-signed certificate in certificate chain"`.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, peer: String, message: String) {
        self.kind = kind
        self.peer = peer
        self.message = message
    }

    /// `"<peer>: <kind>: <message>"`.
    public var description: String {
        "\(peer): \(kind): \(message)"
    }

    /// Classifies a failed system call on a connection to `peer`.
    init(_ error: IOError, peer: String) {
        let kind: Kind
        switch error.errno {
        case ECONNREFUSED: kind = .connectionRefused
        case ENETUNREACH, EHOSTUNREACH, ENETDOWN, EADDRNOTAVAIL: kind = .unreachable
        case ETIMEDOUT: kind = .timedOut
        case ECONNRESET, EPIPE, ECONNABORTED: kind = .closedByPeer
        default: kind = .io
        }
        self.init(kind: kind, peer: peer, message: error.description)
    }
}
