import Glibc
import Testing
@testable import Transport

/// `FDWriter` buffering: what waits is bounded by what the caller lets wait, not by what was ever
/// written.
@Suite struct FDWriterTests {
    /// A reader that never quite catches up, topped up as it reads (a slow pipe child, a slow
    /// stdout reader behind `tail`): the buffer never drains completely, yet its storage stays
    /// near what is pending. Before the fix it grew with every byte written (8 MiB here).
    @Test func aBufferThatNeverDrainsDoesNotGrowWithWhatWasWritten() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        let loop = try EventLoop()
        let writer = FDWriter(fd: fds[1], loop: loop)
        let chunk = [UInt8](repeating: 0x61, count: 32 << 10)
        let total = 8 << 20
        var written = 0, read = 0, maxPending = 0, maxStorage = 0, minPendingWhileWriting = Int.max
        var scratch = [UInt8](repeating: 0, count: 16 << 10)
        func topUp() {
            while written < total && writer.pendingBytes < 128 << 10 {
                writer.write(chunk)
                written += chunk.count
            }
            maxPending = max(maxPending, writer.pendingBytes)
            maxStorage = max(maxStorage, writer.bufferCapacity)
        }
        func tick() {
            // The slow reader: 16 KiB per turn.
            let n = scratch.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, $0.count) }
            if n > 0 { read += n }
            if written < total { minPendingWhileWriting = min(minPendingWhileWriting, writer.pendingBytes) }
            topUp()
            if read >= total { return loop.stop() }
            _ = loop.schedule(afterMilliseconds: 0, tick)
        }
        topUp()
        _ = loop.schedule(afterMilliseconds: 0, tick)
        try runLoop(loop)
        #expect(read == total)
        // The scenario is what it says: the buffer held bytes all along while writing.
        #expect(minPendingWhileWriting > 0)
        #expect(maxPending < 256 << 10)
        #expect(maxStorage < 1 << 20, "buffer storage \(maxStorage) bytes for at most \(maxPending) pending")
    }
}
