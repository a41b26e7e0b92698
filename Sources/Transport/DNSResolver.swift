import COpenSSL
import Glibc

/// One resolved socket address, copied out of `getaddrinfo`'s list.
struct ResolvedAddress: Sendable {
    var family: Int32
    var bytes: [UInt8]

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var storage = sockaddr_storage()
        let length = min(bytes.count, MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { target in
            bytes.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<length]))
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
        }
    }
}

/// A name that did not resolve; `message` is `gai_strerror`'s text.
struct DNSError: Error, Sendable {
    var message: String
}

/// Resolves host names without blocking the loop.
///
/// `getaddrinfo` blocks, so names are resolved on a short-lived detached pthread and the
/// result comes back through `EventLoop.Handle.execute`. Numeric addresses are converted on
/// the loop (no thread). The completion always runs later on the loop, never inside `resolve`.
enum DNSResolver {
    /// Loop-confined completion, passed to the worker thread only as an opaque retained pointer:
    /// the worker never touches it, so it is retained on and released on the loop thread.
    private final class Completion {
        let body: (Result<[ResolvedAddress], DNSError>) -> Void
        init(_ body: @escaping (Result<[ResolvedAddress], DNSError>) -> Void) { self.body = body }
    }

    /// What the worker thread needs: all `Sendable`.
    private final class Job: Sendable {
        let host: String
        let port: Int
        let handle: EventLoop.Handle
        let completionBits: UInt
        init(host: String, port: Int, handle: EventLoop.Handle, completionBits: UInt) {
            self.host = host
            self.port = port
            self.handle = handle
            self.completionBits = completionBits
        }
    }

    /// Resolves `host` for TCP on `port`; addresses come in `getaddrinfo` order (IPv4 and IPv6).
    static func resolve(host: String, port: Int, on loop: EventLoop,
                        _ completion: @escaping (Result<[ResolvedAddress], DNSError>) -> Void) {
        if let numeric = try? lookup(host: host, port: port, numericOnly: true).get() {
            loop.schedule(afterMilliseconds: 0) { completion(.success(numeric)) }
            return
        }
        let bits = UInt(bitPattern: Unmanaged.passRetained(Completion(completion)).toOpaque())
        let job = Unmanaged.passRetained(Job(host: host, port: port, handle: loop.handle, completionBits: bits))
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let job = Unmanaged<Job>.fromOpaque(argument).takeRetainedValue()
            let result = DNSResolver.lookup(host: job.host, port: job.port, numericOnly: false)
            let bits = job.completionBits
            job.handle.execute {
                DNSResolver.complete(bits: bits, with: result)
            }
            return nil
        }, job.toOpaque())
        if rc == 0 {
            pthread_detach(thread)
        } else {
            job.release()
            let message = "cannot start resolver thread: \(errnoDescription(rc))"
            loop.schedule(afterMilliseconds: 0) {
                complete(bits: bits, with: .failure(DNSError(message: message)))
            }
        }
    }

    /// Runs on the loop thread: takes back the retained completion and calls it.
    private static func complete(bits: UInt, with result: Result<[ResolvedAddress], DNSError>) {
        guard let pointer = UnsafeRawPointer(bitPattern: bits) else { return }
        let completion = Unmanaged<Completion>.fromOpaque(pointer).takeRetainedValue()
        completion.body(result)
    }

    /// Calls `getaddrinfo` (blocking unless `numericOnly`) and copies the addresses out.
    static func lookup(host: String, port: Int, numericOnly: Bool) -> Result<[ResolvedAddress], DNSError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (numericOnly ? AI_NUMERICHOST : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0 else {
            let reason = rc == EAI_SYSTEM ? errnoDescription(Glibc.errno) : String(cString: gai_strerror(rc))
            return .failure(DNSError(message: "cannot resolve \(host): \(reason)"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [ResolvedAddress] = []
        var cursor = list
        while let info = cursor?.pointee {
            if let address = info.ai_addr, info.ai_addrlen > 0 {
                let raw = UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen))
                addresses.append(ResolvedAddress(family: info.ai_family, bytes: Array(raw)))
            }
            cursor = info.ai_next
        }
        guard !addresses.isEmpty else {
            return .failure(DNSError(message: "cannot resolve \(host): no addresses"))
        }
        return .success(addresses)
    }
}
