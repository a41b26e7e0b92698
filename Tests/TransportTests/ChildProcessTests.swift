import Glibc
import Testing
@testable import Transport

@Suite struct ChildProcessTests {
    /// A child that never reads: the bytes that fit in its stdin pipe are what a burst can hand
    /// over without waiting. A grown pipe takes 300 KB at once; the default one takes 64 KiB.
    @Test func aGrownStdinPipeTakesABurstTheChildHasNotReadYet() throws {
        let child = try Transport.ChildProcess(argv: ["/bin/sleep", "30"], environment: [], directory: nil, pipes: [.stdin, .stdinReadBack])
        defer {
            child.signal(SIGKILL)
            var status: Int32 = 0
            _ = waitpid(child.pid, &status, 0)
        }
        let capacity = child.enlargeStdinPipe(to: 1 << 20)
        #expect(capacity >= 300_000)
        let burst = [UInt8](repeating: 0x41, count: 300_000)
        var written = 0
        while written < burst.count {
            let n = burst.withUnsafeBytes { write(child.stdinFD, $0.baseAddress! + written, burst.count - written) }
            if n <= 0 { break }
            written += n
        }
        #expect(written == burst.count)
        #expect(child.unreadStdinBytes == burst.count)
    }
}
