import Glibc
import TestSupport
@testable import Transport

/// A child process started with `posix_spawnp`, its stdout on a pipe (tests only).
final class ChildProcess {
    let pid: pid_t
    private let stdoutFD: Int32
    private let stdinFD: Int32
    private var pending: [UInt8] = []
    private var exited = false

    /// Starts `argv` with stdin on an idle pipe, stdout captured, stderr to /dev/null.
    init(_ argv: [String]) throws {
        var outPipe: [Int32] = [0, 0]
        var inPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&inPipe) == 0 else { throw IOError(errno: errno, function: "pipe") }
        for fd in outPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawned = spawnTestChild(argv, stdin: inPipe[0], stdout: outPipe[1])
        close(outPipe[1])
        close(inPipe[0])
        let pid: pid_t
        switch spawned {
        case .success(let p): pid = p
        case .failure(let e):
            close(outPipe[0])
            close(inPipe[1])
            throw IOError(errno: e.errno, function: "posix_spawnp \(argv[0])")
        }
        self.pid = pid
        stdoutFD = outPipe[0]
        stdinFD = inPipe[1]
    }

    deinit {
        terminate()
        close(stdoutFD)
        close(stdinFD)
    }

    /// The next stdout line (without the newline), or `nil` on EOF or after `timeoutMs`.
    func readLine(timeoutMs: Int32 = 10_000) -> String? {
        let deadline = Deadline.now().adding(milliseconds: Int(timeoutMs))
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let remaining = Deadline.now().milliseconds(until: deadline)
            guard remaining > 0 else { return nil }
            var poller = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(stdoutFD, &chunk, chunk.count)
            if n <= 0 { return nil }
            pending.append(contentsOf: chunk[..<n])
        }
    }

    /// Reads lines until one starts with `prefix`; returns it.
    func awaitLine(prefix: String, timeoutMs: Int32 = 10_000) -> String? {
        while let line = readLine(timeoutMs: timeoutMs) {
            if line.hasPrefix(prefix) { return line }
        }
        return nil
    }

    /// Waits for the process to exit; its exit status (or -1).
    @discardableResult
    func wait() -> Int32 {
        guard !exited else { return 0 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        exited = true
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }

    /// SIGTERM and reap; idempotent.
    func terminate() {
        guard !exited else { return }
        kill(pid, SIGTERM)
        wait()
    }

    /// Runs `argv` to completion; true if it exited 0.
    static func run(_ argv: [String]) throws -> Bool {
        try ChildProcess(argv).wait() == 0
    }
}
