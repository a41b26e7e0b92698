import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawnp` (no shell: argv is passed as is, so no content is ever
/// interpolated into a command line), with pipes for the standard streams the caller asks for.
///
/// The child starts with default signal dispositions and an empty signal mask (the daemon ignores
/// SIGPIPE and blocks the signals it reads through signalfd; a child must not inherit either), in
/// its own process group so that a stop reaches its descendants too.
public final class ChildProcess {
    /// The child's process id.
    public let pid: pid_t
    /// Write end of the child's stdin, or -1. Owned by this object until `closeStdin()`.
    public private(set) var stdinFD: Int32
    /// Read end of the child's stdout, or -1.
    public private(set) var stdoutFD: Int32
    /// Read end of the child's stderr, or -1.
    public private(set) var stderrFD: Int32
    /// A second read end of the child's stdin kept by the parent (with `.stdinReadBack`): after the
    /// child exits, what it did not read can be taken back; while it runs, `unreadStdinBytes`
    /// tells how far it has read. It also means writes never fail with EPIPE.
    public private(set) var stdinReadBackFD: Int32 = -1

    /// Which standard streams get a pipe; the others are inherited or `/dev/null`.
    public struct Streams: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let stdin = Streams(rawValue: 1)
        public static let stdout = Streams(rawValue: 2)
        public static let stderr = Streams(rawValue: 4)
        /// Keep a read end of stdin in the parent (see `stdinReadBackFD`).
        public static let stdinReadBack = Streams(rawValue: 8)
    }

    /// Starts `argv[0]` (looked up in PATH) with `argv`, in `directory` when given, with `environment`
    /// (`KEY=VALUE`; nil inherits the daemon's). Streams not piped read from / write to `/dev/null`.
    public init(argv: [String], environment: [String]? = nil, directory: String? = nil, pipes: Streams) throws(IOError) {
        guard let program = argv.first, !program.isEmpty else { throw IOError(errno: EINVAL, function: "posix_spawnp (empty argv)") }
        var fds: [(parent: Int32, child: Int32, target: Int32)] = []
        func makePipe(_ target: Int32, parentReads: Bool) throws(IOError) {
            var p: [Int32] = [-1, -1]
            guard mojo_pipe2(&p, O_CLOEXEC) == 0 else { throw IOError(errno: errno, function: "pipe2") }
            fds.append(parentReads ? (p[0], p[1], target) : (p[1], p[0], target))
        }
        do {
            if pipes.contains(.stdin) { try makePipe(0, parentReads: false) }
            if pipes.contains(.stdout) { try makePipe(1, parentReads: true) }
            if pipes.contains(.stderr) { try makePipe(2, parentReads: true) }
        } catch {
            for f in fds { Glibc.close(f.parent); Glibc.close(f.child) }
            throw error
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for target: Int32 in 0...2 {
            if let f = fds.first(where: { $0.target == target }) {
                posix_spawn_file_actions_adddup2(&actions, f.child, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        if let directory { _ = mojo_spawn_addchdir(&actions, directory) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var child: pid_t = 0
        let rc: Int32
        if let environment {
            var cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
            defer { for p in cEnv { free(p) } }
            rc = posix_spawnp(&child, program, &actions, &attr, &cArgs, &cEnv)
        } else {
            rc = posix_spawnp(&child, program, &actions, &attr, &cArgs, environ)
        }
        let keepReadBack = pipes.contains(.stdinReadBack)
        for f in fds where !(keepReadBack && f.target == 0 && rc == 0) { Glibc.close(f.child) }
        guard rc == 0 else {
            for f in fds { Glibc.close(f.parent) }
            throw IOError(errno: rc, function: "posix_spawnp(\(program))")
        }
        pid = child
        stdinFD = fds.first { $0.target == 0 }?.parent ?? -1
        stdoutFD = fds.first { $0.target == 1 }?.parent ?? -1
        stderrFD = fds.first { $0.target == 2 }?.parent ?? -1
        if keepReadBack, let f = fds.first(where: { $0.target == 0 }) {
            // The child's read end, kept (close-on-exec, so no other child inherits it).
            stdinReadBackFD = f.child
        }
        // Not the read-back end: O_NONBLOCK belongs to the open file description, which the
        // child's stdin shares, and a child must not find its stdin non-blocking.
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
    }

    /// Closes the parent's write end of the child's stdin (the child sees EOF once it has read
    /// what is in the pipe). The read-back end stays open until `closeReadBack()` or deinit, so
    /// what the child leaves unread can still be measured.
    public func closeStdin() {
        if stdinFD >= 0 { Glibc.close(stdinFD); stdinFD = -1 }
    }

    /// Closes the read-back end of stdin.
    public func closeReadBack() {
        if stdinReadBackFD >= 0 { Glibc.close(stdinReadBackFD); stdinReadBackFD = -1 }
    }

    /// Asks for a stdin pipe of `bytes` (Linux `F_SETPIPE_SZ`, capped by
    /// /proc/sys/fs/pipe-max-size); returns the capacity it has, 64 KiB when it cannot grow.
    /// A bigger pipe means fewer wake-ups of the child and fewer writes for a burst of lines.
    @discardableResult
    public func enlargeStdinPipe(to bytes: Int) -> Int {
        guard stdinFD >= 0 else { return 0 }
        let setPipeSize: Int32 = 1031, getPipeSize: Int32 = 1032   // F_SETPIPE_SZ, F_GETPIPE_SZ (linux/fcntl.h)
        _ = fcntl(stdinFD, setPipeSize, Int32(clamping: bytes))
        let size = fcntl(stdinFD, getPipeSize)
        return size > 0 ? Int(size) : 65_536
    }

    /// Bytes written to the child's stdin that it has not read yet (needs `.stdinReadBack`).
    public var unreadStdinBytes: Int {
        guard stdinReadBackFD >= 0 else { return 0 }
        var n: Int32 = 0
        return mojo_ioctl_int(stdinReadBackFD, UInt(FIONREAD), &n) == 0 ? Int(n) : 0
    }

    /// Reads back everything the child left unread in its stdin pipe (after it exited). Reads
    /// only what FIONREAD reports, so it never blocks (the descriptor is blocking, see init).
    public func takeBackUnreadStdin() -> [UInt8] {
        var out: [UInt8] = []
        var left = unreadStdinBytes
        var buf = [UInt8](repeating: 0, count: 65_536)
        while left > 0 {
            let n = buf.withUnsafeMutableBytes { read(stdinReadBackFD, $0.baseAddress, min($0.count, left)) }
            if n > 0 { out.append(contentsOf: buf[0..<n]); left -= n; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        return out
    }
    /// Closes the parent's end of stdout.
    public func closeStdout() { if stdoutFD >= 0 { Glibc.close(stdoutFD); stdoutFD = -1 } }
    /// Closes the parent's end of stderr.
    public func closeStderr() { if stderrFD >= 0 { Glibc.close(stderrFD); stderrFD = -1 } }

    /// Sends `signal` to the child's process group (the child and what it started).
    public func signal(_ signo: Int32) { _ = Glibc.kill(-pid, signo) }

    deinit {
        closeStdin(); closeReadBack(); closeStdout(); closeStderr()
    }
}

/// How a child ended, from `waitpid`.
public enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    init(status: Int32) {
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros; their bit layout is fixed on Linux.
        if status & 0x7F == 0 { self = .exited((status >> 8) & 0xFF) } else { self = .signalled(status & 0x7F) }
    }

    public var description: String {
        switch self {
        case .exited(let c): "exit status \(c)"
        case .signalled(let s): "killed by signal \(s)"
        }
    }
}
