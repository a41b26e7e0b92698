import Glibc
import Synchronization
import Testing
@testable import Transport

/// Records a stream's events and lets a test react to them.
final class Recorder: ByteStreamDelegate {
    var connects = 0
    var received: [UInt8] = []
    var drains = 0
    var closes: [TransportError?] = []
    var onConnect: (ByteStream) -> Void = { _ in }
    var onRead: (ByteStream) -> Void = { _ in }
    var onDrain: (ByteStream) -> Void = { _ in }
    var onClose: (TransportError?) -> Void = { _ in }

    func streamDidConnect(_ s: ByteStream) {
        connects += 1
        onConnect(s)
    }

    func stream(_ s: ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        received.append(contentsOf: bytes)
        onRead(s)
    }

    func streamDidDrain(_ s: ByteStream) {
        drains += 1
        onDrain(s)
    }

    func stream(_ s: ByteStream, didClose error: TransportError?) {
        closes.append(error)
        onClose(error)
    }
}

/// Runs `loop` until something stops it; fails the test (and stops) after `timeoutMs`.
func runLoop(_ loop: EventLoop, timeoutMs: Int = 15_000, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var timedOut = false
    let safety = loop.schedule(afterMilliseconds: timeoutMs) {
        timedOut = true
        loop.stop()
    }
    try loop.run()
    loop.cancel(safety)
    #expect(!timedOut, "loop did not finish within \(timeoutMs) ms", sourceLocation: sourceLocation)
}

/// A blocking TCP listener on 127.0.0.1 with a kernel-chosen port (tests only).
struct TestListener: Sendable {
    let fd: Int32
    let port: Int

    /// Binds 127.0.0.1:0; `listen` only if `backlog` is given. `receiveBuffer` shrinks the
    /// accepted sockets' SO_RCVBUF (to force backpressure on the sender).
    init(backlog: Int32? = 16, receiveBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errno: errno, function: "socket") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw IOError(errno: errno, function: "bind") }
        if let backlog, listen(fd, backlog) != 0 { throw IOError(errno: errno, function: "listen") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts one connection on a thread and echoes it until EOF.
    func echoOnce() throws -> pthread_t {
        let listener = fd
        return try spawnThread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                var offset = 0
                while offset < n {
                    let w = buffer[offset..<n].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if w <= 0 { break }
                    offset += w
                }
            }
            Glibc.close(client)
        }
    }

    /// Accepts one connection on a thread, reads to EOF and stores count and checksum in `result`.
    func sinkOnce(into result: SinkResult) throws -> pthread_t {
        let listener = fd
        return try spawnThread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 65536)
            var count = 0
            var sum: UInt64 = 0
            while true {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                for index in 0..<n { sum = sum &* 31 &+ UInt64(buffer[index]) }
                count += n
            }
            Glibc.close(client)
            result.value.withLock { $0 = (count, sum) }
        }
    }

    func close() { _ = Glibc.close(fd) }
}

/// What a sink peer received: byte count and a rolling checksum.
final class SinkResult: Sendable {
    let value = Mutex<(count: Int, sum: UInt64)>((0, 0))
}
