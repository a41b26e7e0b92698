import Glibc
import Testing
@testable import Transport

/// `ByteStream` backpressure: reading pauses and resumes without losing a byte; unsent bytes are
/// bounded.
@Suite struct StreamBackpressureTests {
    @Test func pausedStreamReadsNothingUntilResumedThenEverything() throws {
        let listener = try TestListener()
        defer { listener.close() }
        let server = try listener.echoOnce()
        let loop = try EventLoop()
        let recorder = Recorder()
        let message = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var resumed = false
        recorder.onConnect = { stream in
            stream.pauseReading()
            stream.write(message)
            // The echo comes back into the socket while paused (20 KB: within the default receive
            // buffer, which does not grow while nobody reads): wait until it is all there.
            func check() {
                var pending: Int32 = 0
                _ = ioctl(stream.fd, UInt(FIONREAD), &pending)
                if Int(pending) >= message.count {
                    #expect(recorder.received.isEmpty, "read while paused")
                    resumed = true
                    stream.resumeReading()
                } else {
                    _ = loop.schedule(afterMilliseconds: 5, check)
                }
            }
            check()
        }
        recorder.onRead = { stream in
            if recorder.received.count >= message.count { stream.close() }
        }
        recorder.onClose = { _ in loop.stop() }
        _ = ByteStream.connect(host: "127.0.0.1", port: listener.port, tls: nil, on: loop, delegate: recorder)
        try runLoop(loop)
        pthread_join(server, nil)
        #expect(resumed)
        #expect(recorder.received == message)
    }

    @Test func unsentBytesOverTheLimitFailTheStreamWithTheReason() throws {
        // A peer that never accepts, never reads: the kernel's buffers fill, then ours.
        let listener = try TestListener(receiveBuffer: 4096)
        defer { listener.close() }
        let loop = try EventLoop()
        let recorder = Recorder()
        recorder.onConnect = { stream in
            stream.maxPendingWriteBytes = 1 << 20
            stream.write([UInt8](repeating: 0x61, count: 16 << 20))
        }
        recorder.onClose = { _ in loop.stop() }
        _ = ByteStream.connect(host: "127.0.0.1", port: listener.port, tls: nil, on: loop, delegate: recorder)
        try runLoop(loop)
        let error = try #require(recorder.closes.first ?? nil)
        #expect(error.kind == .io)
        #expect(error.message.contains("the peer is not reading"), "\(error.message)")
        #expect(error.message.contains("over the limit of 1048576"), "\(error.message)")
    }
}
