import Relay
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Starts `FakeChild`ren instead of processes: the `PipeChildLauncher` of unit tests.
public final class FakeLauncher: PipeChildLauncher {
    private let clock: VirtualClock
    private var nextPid: pid_t = 90_000
    /// Every child started, oldest first.
    public private(set) var children: [FakeChild] = []
    /// Launches that failed (as `posix_spawnp` of a missing program would).
    public private(set) var failedLaunches = 0
    /// How many of the next launches fail (ENOENT).
    public var failNext = 0
    /// Called with each new child before the pipe child drives it (script its behaviour here).
    public var onLaunch: ((FakeChild) -> Void)?
    /// Attempts so far, started or failed, with the virtual time of each (ms since the clock began).
    public private(set) var attemptTimesMs: [Int] = []

    public init(clock: VirtualClock) {
        self.clock = clock
    }

    /// The child started last.
    public var last: FakeChild? { children.last }

    public func launch(argv: [String], environment: [String], directory: String?, largePipe: Bool,
                       maxLineBytes: Int) throws(IOError) -> PipeChildProcess {
        attemptTimesMs.append(clock.elapsedMs)
        if failNext > 0 {
            failNext -= 1
            failedLaunches += 1
            throw IOError(errno: ENOENT, function: "posix_spawnp(\(argv.first ?? ""))")
        }
        nextPid += 1
        let child = FakeChild(pid: nextPid, argv: argv, environment: environment, clock: clock)
        children.append(child)
        onLaunch?(child)
        return child
    }
}

/// A scripted pipe child: it reads lines, answers and exits when the test says so (or, with
/// `exitsOnSignal`, when signalled, as a well-behaved child does).
public final class FakeChild: PipeChildProcess {
    public let pid: pid_t
    public let argv: [String]
    public let environment: [String]
    private let clock: VirtualClock
    private var events: PipeChildEvents?
    /// Bytes written to stdin the child has not read.
    private var pipe: [UInt8] = []
    /// Lines the child has read, in order.
    public private(set) var readLines: [String] = []
    /// Signals received, in order.
    public private(set) var signals: [Int32] = []
    /// Whether the parent closed our stdin (EOF), and whether our descriptors were released.
    public private(set) var stdinClosed = false
    public private(set) var closed = false
    public private(set) var exitStatus: ChildExit?
    /// Exit (at the next instant) on SIGTERM or SIGKILL.
    public var exitsOnSignal = true
    /// Reads every line as soon as it is written (a fast child).
    public var readsEagerly = false
    public var pipeCapacity = 65_536
    public var hasStdin = true

    init(pid: pid_t, argv: [String], environment: [String], clock: VirtualClock) {
        self.pid = pid
        self.argv = argv
        self.environment = environment
        self.clock = clock
    }

    public var pendingBytes: Int { 0 }
    public var hasFailed: Bool { stdinClosed || exitStatus != nil }
    public var unreadStdinBytes: Int { pipe.count }
    /// Lines written that the child has not read yet.
    public var unreadLines: [String] {
        pipe.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
    /// Whether the pipe child is driving it (started and not yet exited).
    public var isRunning: Bool { events != nil && exitStatus == nil }

    public func begin(_ events: PipeChildEvents) {
        self.events = events
    }

    public func write(_ bytes: [UInt8]) {
        guard !stdinClosed, exitStatus == nil else { return }
        pipe += bytes
        if readsEagerly { read() }
    }

    /// Reads `lines` lines (all when nil) from stdin; returns them.
    @discardableResult
    public func read(lines: Int? = nil) -> [String] {
        var taken: [String] = []
        while lines.map({ taken.count < $0 }) ?? true, let newline = pipe.firstIndex(of: 0x0A) {
            taken.append(String(decoding: pipe[..<newline], as: UTF8.self))
            pipe.removeSubrange(...newline)
        }
        readLines += taken
        return taken
    }

    /// Prints one line on stdout (a reply); the pipe child hears it now.
    public func say(_ line: String) {
        Array(line.utf8).withUnsafeBytes { events?.stdout(.line($0)) }
    }

    /// Prints one line on stderr.
    public func complain(_ line: String) {
        Array(line.utf8).withUnsafeBytes { events?.stderr(.line($0)) }
    }

    /// Exits now with `status` (the reaper's report).
    public func exit(_ status: ChildExit = .exited(0)) {
        guard exitStatus == nil else { return }
        exitStatus = status
        events?.exited(status)
    }

    public func takeBackUnreadStdin() -> Int {
        defer { pipe.removeAll() }
        return pipe.count
    }

    public func closeStdin() { stdinClosed = true }

    public func signal(_ signo: Int32) {
        signals.append(signo)
        guard exitsOnSignal, signo == SIGTERM || signo == SIGKILL else { return }
        clock.schedule(afterMilliseconds: 0) { [weak self] in self?.exit(.signalled(signo)) }
    }

    public func drainOutput() {}
    public func close() { closed = true }
}
