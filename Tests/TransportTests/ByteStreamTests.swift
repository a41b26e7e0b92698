import Glibc
import Synchronization
import Testing
@testable import Transport

@Suite struct ByteStreamTests {
    @Test func tcpEchoRoundTrip() throws {
        let listener = try TestListener()
        defer { listener.close() }
        let server = try listener.echoOnce()
        let loop = try EventLoop()
        let recorder = Recorder()
        let message = Array("hello, echo\n".utf8)
        recorder.onConnect = { $0.write(message) }
        recorder.onRead = { stream in
            if recorder.received.count >= message.count { stream.close() }
        }
        recorder.onClose = { _ in loop.stop() }
        let stream = ByteStream.connect(host: "127.0.0.1", port: listener.port, tls: nil, on: loop, delegate: recorder)
        #expect(stream.peerDescription == "127.0.0.1:\(listener.port)")
        try runLoop(loop)
        pthread_join(server, nil)
        #expect(recorder.connects == 1)
        #expect(recorder.received == message)
        #expect(recorder.closes.count == 1)
        #expect(recorder.closes.first! == nil)
    }

    @Test func writesBeforeConnectAreSentAndPeerEOFIsOrderly() throws {
        let listener = try TestListener()
        defer { listener.close() }
        let server = try listener.echoOnce()
        let loop = try EventLoop()
        let recorder = Recorder()
        let stream = ByteStream.connect(host: "localhost", port: listener.port, tls: nil, on: loop, delegate: recorder)
        stream.write(Array("early".utf8))
        recorder.onRead = { stream in
            // Half-close our side: the echo server sees EOF and closes; we get an orderly EOF.
            if recorder.received.count == 5 { shutdown(stream.fd, Int32(SHUT_WR)) }
        }
        recorder.onClose = { _ in loop.stop() }
        try runLoop(loop)
        pthread_join(server, nil)
        #expect(String(decoding: recorder.received, as: UTF8.self) == "early")
        #expect(recorder.closes.count == 1)
        #expect(recorder.closes.first! == nil)
    }

    @Test func connectionRefusedNamesThePeer() throws {
        let unused = try TestListener(backlog: nil) // bound, not listening: connects are refused
        defer { unused.close() }
        let loop = try EventLoop()
        let recorder = Recorder()
        recorder.onClose = { _ in loop.stop() }
        _ = ByteStream.connect(host: "127.0.0.1", port: unused.port, tls: nil, on: loop, delegate: recorder)
        try runLoop(loop)
        let error = try #require(recorder.closes.first ?? nil)
        #expect(error.kind == .connectionRefused)
        #expect(error.peer == "127.0.0.1:\(unused.port)")
        #expect(error.message.contains("refused"))
        #expect(recorder.connects == 0)
    }

    @Test func unresolvableNameIsADNSFailure() throws {
        let loop = try EventLoop()
        let recorder = Recorder()
        recorder.onClose = { _ in loop.stop() }
        _ = ByteStream.connect(host: "nonexistent.invalid", port: 443, tls: nil, on: loop, delegate: recorder)
        try runLoop(loop)
        let error = try #require(recorder.closes.first ?? nil)
        #expect(error.kind == .dnsFailure)
        #expect(error.peer == "nonexistent.invalid:443")
        #expect(error.message.contains("nonexistent.invalid"))
    }

    @Test func connectTimesOutWhenTheBacklogIsFull() throws {
        let listener = try TestListener(backlog: 0)
        defer { listener.close() }
        // Fill the accept queue (never accepted); further SYNs are dropped by the kernel.
        var fillers: [Int32] = []
        defer { fillers.forEach { _ = close($0) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(listener.port).bigEndian)
        for _ in 0..<3 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0)
            fillers.append(fd)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        let loop = try EventLoop()
        let recorder = Recorder()
        recorder.onClose = { _ in loop.stop() }
        let started = Deadline.now()
        _ = ByteStream.connect(host: "127.0.0.1", port: listener.port, tls: nil, connectTimeoutMs: 300, on: loop, delegate: recorder)
        try runLoop(loop)
        let error = try #require(recorder.closes.first ?? nil)
        #expect(error.kind == .timedOut)
        #expect(error.message.contains("300 ms"))
        #expect(Deadline.now() >= started.adding(milliseconds: 300))
    }

    @Test func largeWriteAppliesBackpressureAndDrains() throws {
        let listener = try TestListener(receiveBuffer: 32 * 1024)
        defer { listener.close() }
        let result = SinkResult()
        let server = try listener.sinkOnce(into: result)
        let loop = try EventLoop()
        let recorder = Recorder()
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        var pendingAfterWrite = 0
        recorder.onConnect = { stream in
            stream.write(payload)
            pendingAfterWrite = stream.pendingWriteBytes
        }
        recorder.onDrain = { stream in
            #expect(stream.pendingWriteBytes == 0)
            stream.close()
        }
        recorder.onClose = { _ in loop.stop() }
        _ = ByteStream.connect(host: "127.0.0.1", port: listener.port, tls: nil, on: loop, delegate: recorder)
        try runLoop(loop, timeoutMs: 30_000)
        pthread_join(server, nil)
        var expectedSum: UInt64 = 0
        for byte in payload { expectedSum = expectedSum &* 31 &+ UInt64(byte) }
        #expect(pendingAfterWrite > 1 << 20)
        #expect(recorder.drains == 1)
        #expect(recorder.closes.count == 1)
        #expect(recorder.closes.first! == nil)
        let received = result.value.withLock { $0 }
        #expect(received.count == payload.count)
        #expect(received.sum == expectedSum)
    }
}
