import COpenSSL
import Glibc

/// A listening TCP socket driven by an `EventLoop`: accepted connections are handed to a
/// callback as `ServerConnection`s (not yet started: call `start(delegate:)`).
///
/// Loop-thread only. The listener keeps itself alive until `close()`. Accepting runs until the
/// kernel has no more pending connections (bounded per wake-up for fairness). A failing
/// `accept` never crashes: the error goes to `acceptError`, and when it is a resource
/// exhaustion (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) accepting pauses for `acceptPauseMs`
/// so the level-triggered loop does not spin on the connection it cannot take.
public final class TCPListener {
    private let loop: EventLoop
    private var fd: Int32
    private var watch: FDWatch?
    private var resumeTimer: TimerID?
    private let onAccept: (ServerConnection) -> Void
    private let onError: (TransportError) -> Void

    /// The address as given to `listen` (`"localhost"` stays `"localhost"`).
    public let host: String
    /// The bound port: the kernel's choice when 0 was asked for.
    public let port: Int
    /// How long accepting pauses after a resource-exhaustion failure. Default 100 ms.
    public var acceptPauseMs = 100

    private init(loop: EventLoop, fd: Int32, host: String, port: Int,
                 accept: @escaping (ServerConnection) -> Void, acceptError: @escaping (TransportError) -> Void) {
        self.loop = loop
        self.fd = fd
        self.host = host
        self.port = port
        self.onAccept = accept
        self.onError = acceptError
    }

    deinit {
        closeDescriptor(fd)
    }

    /// Binds `host:port` (an IPv4 or IPv6 literal, brackets optional, or `"localhost"` for
    /// 127.0.0.1; port 0 for an ephemeral port) with `SO_REUSEADDR` and starts accepting.
    ///
    /// Throws a `TransportError` (kind `.io`) naming the failing call, e.g. `bind` with
    /// `EADDRINUSE`, or for a host that is not an address literal.
    public static func listen(host: String, port: Int, backlog: Int32 = 128, on loop: EventLoop,
                              acceptError: @escaping (TransportError) -> Void = { _ in },
                              accept: @escaping (ServerConnection) -> Void) throws(TransportError) -> TCPListener {
        let display = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard (0...65_535).contains(port) else { throw TransportError(kind: .io, peer: display, message: "port out of range") }
        guard let address = SocketAddress(host: host, port: port) else {
            throw TransportError(kind: .io, peer: display, message: "not an IP address literal (or \"localhost\")")
        }
        var fd: Int32 = -1
        do {
            fd = try syscall("socket") { socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0) }
            var one: Int32 = 1
            try syscall("setsockopt") { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
            if address.family == AF_INET6 {
                try syscall("setsockopt") { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
            }
            let socketFD = fd
            try address.withSockaddr { pointer, length in _ = try syscall("bind") { bind(socketFD, pointer, length) } }
            try syscall("listen") { Glibc.listen(socketFD, backlog) }
            let bound = try SocketAddress.local(of: socketFD)
            let listener = TCPListener(loop: loop, fd: fd, host: host, port: bound.port, accept: accept, acceptError: acceptError)
            fd = -1 // owned by the listener from here on
            listener.watch = try loop.watch(fd: listener.fd, readable: true, writable: false) { [listener] _, _, _ in
                listener.acceptAvailable()
            }
            return listener
        } catch let error as IOError {
            closeDescriptor(fd)
            throw TransportError(error, peer: display)
        } catch {
            closeDescriptor(fd)
            throw TransportError(kind: .io, peer: display, message: "\(error)")
        }
    }

    /// Stops accepting and closes the socket; accepted connections are not affected. Idempotent.
    public func close() {
        if let resumeTimer { loop.cancel(resumeTimer) }
        resumeTimer = nil
        watch?.cancel()
        watch = nil
        closeDescriptor(fd)
        fd = -1
    }

    /// Accepts pending connections until the kernel has none left (at most 64 per wake-up).
    private func acceptAvailable() {
        for _ in 0..<64 where fd >= 0 && resumeTimer == nil {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let listening = fd
            let result: IOResult<Int32>
            do {
                result = try syscallAllowingWouldBlock("accept4") {
                    withUnsafeMutablePointer(to: &storage) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            mojo_accept4(listening, $0, &length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
                        }
                    }
                }
            } catch let error as IOError {
                // The connection died in the queue: it is gone, take the next one.
                if error.errno == ECONNABORTED || error.errno == EPROTO { continue }
                onError(TransportError(error, peer: "\(host):\(port)"))
                pauseAccepting()
                return
            } catch {
                return
            }
            guard case .processed(let client) = result else { return }
            var one: Int32 = 1
            _ = setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let peer = SocketAddress(storage: storage).description
            onAccept(ServerConnection(fd: client, peer: peer, loop: loop))
        }
    }

    /// Stops watching for `acceptPauseMs`, then resumes.
    private func pauseAccepting() {
        guard fd >= 0 else { return }
        try? watch?.update(readable: false, writable: false)
        resumeTimer = loop.schedule(afterMilliseconds: acceptPauseMs) { [self] in
            resumeTimer = nil
            try? watch?.update(readable: true, writable: false)
        }
    }
}

/// An IPv4 or IPv6 socket address, for binding and for describing peers.
struct SocketAddress: CustomStringConvertible {
    var storage = sockaddr_storage()

    var family: Int32 { Int32(storage.ss_family) }

    /// Parses an address literal (brackets optional for IPv6) or `"localhost"`.
    init?(host: String, port: Int) {
        var text = host
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text == "localhost" { text = "127.0.0.1" }
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET, text, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { target in withUnsafeBytes(of: &v4) { target.copyMemory(from: $0) } }
        } else if inet_pton(AF_INET6, text, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { target in withUnsafeBytes(of: &v6) { target.copyMemory(from: $0) } }
        } else {
            return nil
        }
    }

    init(storage: sockaddr_storage) {
        self.storage = storage
    }

    /// The address a socket is bound to.
    static func local(of fd: Int32) throws -> SocketAddress {
        var address = SocketAddress(storage: sockaddr_storage())
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try syscall("getsockname") {
            withUnsafeMutablePointer(to: &address.storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        return address
    }

    var port: Int {
        var copy = storage
        return withUnsafeBytes(of: &copy) { raw in
            // sin_port and sin6_port sit at the same offset, right after the family.
            Int(UInt16(bigEndian: raw.load(fromByteOffset: MemoryLayout<sa_family_t>.size, as: UInt16.self)))
        }
    }

    var length: socklen_t {
        socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        var copy = storage
        return try withUnsafePointer(to: &copy) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    /// `"1.2.3.4:port"` or `"[::1]:port"`.
    var description: String {
        var copy = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = withUnsafeBytes(of: &copy) { raw -> Bool in
            let offset = family == AF_INET6 ? MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr) ?? 8
                                            : MemoryLayout<sockaddr_in>.offset(of: \.sin_addr) ?? 4
            return inet_ntop(family, raw.baseAddress.map { $0 + offset }, &text, socklen_t(text.count)) != nil
        }
        guard ok else { return "unknown" }
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return family == AF_INET6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
