import Glibc
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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let duplicate: (String) -> UnsafeMutablePointer<CChar>? = { strdup($0) }
        let args = argv.map(duplicate) + [nil]
        let environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LC_ALL=C"]
        let env = environment.map(duplicate) + [nil]
        defer { (args + env).forEach { free($0) } }
        // Test-runner threads block most signals and children inherit the mask: without this
        // the child would ignore SIGTERM. Start it with an empty mask and default dispositions.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, args, env)
        close(outPipe[1])
        close(inPipe[0])
        guard rc == 0 else {
            close(outPipe[0])
            close(inPipe[1])
            throw IOError(errno: rc, function: "posix_spawnp \(argv[0])")
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
