import Glibc
import Synchronization
import Testing
import Admin
import Diagnostics
import HTTP
import Transport

/// A value shared between the client thread and the test thread.
final class Shared<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ initial: T) { value = Mutex(initial) }
    func get() -> T { value.withLock { $0 } }
    func set(_ newValue: T) { value.withLock { $0 = newValue } }
}

/// Starts a joinable pthread running `body` (tests only).
func spawnThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    let raw = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { arg in
        guard let arg else { return nil }
        Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
        return nil
    }, raw)
    if rc != 0 {
        Unmanaged<Box>.fromOpaque(raw).release()
        throw IOError(errno: rc, function: "pthread_create")
    }
    return thread
}

/// The routes every test server has. `/slow?ms=N` answers later; `/never` never answers;
/// `/twice` answers twice (the second is ignored).
func testRouter(loop: EventLoop) -> AdminRouter {
    let router = AdminRouter()
    router.get("/hello") { request, _, respond in
        respond(.text(200, "hello \(request.head.query.first?.1 ?? "")"))
    }
    router.post("/echo") { request, _, respond in
        respond(HTTPServerResponse(status: 200, body: request.body))
    }
    router.get("/slow") { request, _, respond in
        let ms = Int(request.head.query.first { $0.0 == "ms" }?.1 ?? "") ?? 0
        loop.schedule(afterMilliseconds: ms) { respond(.text(200, "slept \(ms)")) }
    }
    router.get("/never") { _, _, _ in }
    let registry = MetricsRegistry()
    let scrapes = try? registry.counter("admin_test_scrapes_total", help: "Scrapes served.", labels: [("route", "/metrics")])
    router.get("/metrics") { _, _, respond in
        scrapes?.increment()
        respond(.metrics(registry))
    }
    router.get("/twice") { _, _, respond in
        respond(.text(200, "first"))
        respond(.text(500, "second"))
    }
    router.get("/bad") { _, _, respond in
        respond(HTTPServerResponse(status: 200, headers: [("X", "a\r\nInjected: yes")]))
    }
    return router
}

/// Runs an admin server on this thread's loop while `client` runs on another thread with the
/// server's port; returns the client's result and the server (closed) for inspection.
func withServer<T: Sendable>(limits: AdminLimits = AdminLimits(), timeoutMs: Int = 15_000,
                             _ client: @escaping @Sendable (Int) -> T,
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> (T?, AdminServer) {
    let loop = try EventLoop()
    let server = try AdminServer(listen: "127.0.0.1:0", loop: loop, limits: limits, handler: testRouter(loop: loop))
    let result = Shared<T?>(nil)
    let done = Shared(false)
    let port = server.port
    let thread = try spawnThread {
        result.set(client(port))
        done.set(true)
    }
    var timedOut = false
    let safety = loop.schedule(afterMilliseconds: timeoutMs) { timedOut = true; loop.stop() }
    func poll() {
        if done.get() { loop.stop() } else { loop.schedule(afterMilliseconds: 5, poll) }
    }
    poll()
    try loop.run()
    loop.cancel(safety)
    pthread_join(thread, nil)
    server.close()
    #expect(!timedOut, "client did not finish", sourceLocation: sourceLocation)
    return (result.get(), server)
}

/// A blocking HTTP client socket for tests: send raw bytes, read responses.
final class RawClient {
    private(set) var fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeoutMs: Int = 5_000) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var timeout = timeval(tv_sec: receiveTimeoutMs / 1000, tv_usec: (receiveTimeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads more bytes into the buffer; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// One whole response (head and Content-Length body) as text, or nil.
    func readResponse(head: Bool = false) -> String? {
        while true {
            if let end = findHeadEnd() {
                let headText = String(decoding: buffer[0..<end], as: UTF8.self)
                let length = headText.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingPrefix(" ")) } ?? 0
                let total = end + 4 + (head ? 0 : length)
                if buffer.count >= total {
                    let text = String(decoding: buffer[0..<total], as: UTF8.self)
                    buffer.removeFirst(total)
                    return text
                }
            }
            guard fill() else { return nil }
        }
    }

    /// Whether the server closed the connection (EOF) with nothing more to read.
    func readsEOF() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1024)
        return buffer.isEmpty && recv(fd, &chunk, chunk.count, 0) == 0
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10
            && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// `"HTTP/1.1 200 OK"` -> 200.
func status(_ response: String?) -> Int? {
    response.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
}

/// The body after the blank line.
func body(_ response: String?) -> String? {
    guard let response, let range = response.firstRange(of: "\r\n\r\n") else { return nil }
    return String(response[range.upperBound...])
}

/// Milliseconds on the monotonic clock.
func nowMs() -> Int {
    Int(Deadline.now().nanoseconds / 1_000_000)
}
