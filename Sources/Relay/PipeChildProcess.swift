import Transport
#if canImport(Glibc)
import Glibc
#endif

/// What a running pipe child reports, on the loop.
public struct PipeChildEvents {
    /// Everything written so far has left our buffer for the pipe.
    public var drained: () -> Void
    /// One line (or an oversized one) on the child's stdout.
    public var stdout: (LineReader.Input) -> Void
    /// One line on the child's stderr.
    public var stderr: (LineReader.Input) -> Void
    /// The child exited (reported once).
    public var exited: (ChildExit) -> Void
    /// Writing to the child's stdin failed (EPIPE: it closed its stdin or died; the exit follows).
    public var writeFailed: (String) -> Void = { _ in }

    public init(drained: @escaping () -> Void, stdout: @escaping (LineReader.Input) -> Void,
                stderr: @escaping (LineReader.Input) -> Void, exited: @escaping (ChildExit) -> Void) {
        self.drained = drained
        self.stdout = stdout
        self.stderr = stderr
        self.exited = exited
    }
}

/// One running child of a pipe sink as `PipeChild` drives it: lines down its stdin, how far it
/// has read, its output and its exit. ``SpawnedPipeChild`` is a real process with pipes; unit
/// tests use a scripted fake that reads, answers and exits on command.
public protocol PipeChildProcess: AnyObject {
    /// The process id (for logs and to match the exit report).
    var pid: pid_t { get }
    /// The stdin pipe's capacity: how much is written ahead of the child.
    var pipeCapacity: Int { get }
    /// Bytes written that are still in our buffer, not yet in the pipe.
    var pendingBytes: Int { get }
    /// Whether writing failed for good (the child closed its stdin or died).
    var hasFailed: Bool { get }
    /// Bytes in the pipe the child has not read yet.
    var unreadStdinBytes: Int { get }
    /// Whether the child still holds its stdin open (it can still read).
    var hasStdin: Bool { get }
    /// Starts reporting to `events`; called once, after the child is recorded as running (an exit
    /// may be reported from inside this call).
    func begin(_ events: PipeChildEvents)
    /// Queues bytes for the child's stdin.
    func write(_ bytes: [UInt8])
    /// After the exit: takes back what the child left unread in the pipe; returns the byte count.
    func takeBackUnreadStdin() -> Int
    /// Closes stdin (EOF once the child has read the pipe); bytes not yet in the pipe are dropped.
    func closeStdin()
    /// Sends a signal to the child (and its process group).
    func signal(_ signo: Int32)
    /// Delivers the output lines already produced, now (before an exit is handled).
    func drainOutput()
    /// Stops watching the child's descriptors (it has exited).
    func close()
}

/// Starts pipe children: `SpawningLauncher` in the daemon, a fake in unit tests.
public protocol PipeChildLauncher: AnyObject {
    /// Starts `argv` with `environment`, in `directory` when given. `largePipe` asks for a 1 MiB
    /// stdin pipe; `maxLineBytes` bounds stdout lines.
    func launch(argv: [String], environment: [String], directory: String?, largePipe: Bool,
                maxLineBytes: Int) throws(IOError) -> PipeChildProcess
}

/// Children as processes (`posix_spawnp`), their pipes on the loop, their exits from the reaper.
public final class SpawningLauncher: PipeChildLauncher {
    let loop: EventLoop
    let reaper: ChildReaper

    public init(loop: EventLoop, reaper: ChildReaper) {
        self.loop = loop
        self.reaper = reaper
    }

    public func launch(argv: [String], environment: [String], directory: String?, largePipe: Bool,
                       maxLineBytes: Int) throws(IOError) -> PipeChildProcess {
        let child = try ChildProcess(argv: argv, environment: environment, directory: directory,
                                     pipes: [.stdin, .stdout, .stderr, .stdinReadBack])
        return SpawnedPipeChild(child, loop: loop, reaper: reaper, largePipe: largePipe, maxLineBytes: maxLineBytes)
    }
}

/// A real child process behind the `PipeChildProcess` seam.
final class SpawnedPipeChild: PipeChildProcess {
    private let process: ChildProcess
    private let loop: EventLoop
    private let reaper: ChildReaper
    private let maxLineBytes: Int
    private var stdin: FDWriter?
    private var stdout: LineReader?
    private var stderr: LineReader?
    let pipeCapacity: Int

    init(_ process: ChildProcess, loop: EventLoop, reaper: ChildReaper, largePipe: Bool, maxLineBytes: Int) {
        self.process = process
        self.loop = loop
        self.reaper = reaper
        self.maxLineBytes = maxLineBytes
        pipeCapacity = largePipe ? process.enlargeStdinPipe(to: 1 << 20) : 65_536
    }

    var pid: pid_t { process.pid }
    var pendingBytes: Int { stdin?.pendingBytes ?? 0 }
    var hasFailed: Bool { stdin?.hasFailed ?? true }
    var unreadStdinBytes: Int { process.unreadStdinBytes }

    /// Whether the process still has a file descriptor 0 (Linux: /proc/PID/fd/0).
    var hasStdin: Bool {
        var buf = [CChar](repeating: 0, count: 64)
        return readlink("/proc/\(process.pid)/fd/0", &buf, buf.count) >= 0 || errno != ENOENT
    }

    func begin(_ events: PipeChildEvents) {
        let writer = FDWriter(fd: process.stdinFD, loop: loop)
        writer.onDrain = events.drained
        writer.onError = { events.writeFailed($0.description) }
        stdin = writer
        stdout = LineReader(fd: process.stdoutFD, maxLineBytes: maxLineBytes, loop: loop, onInput: events.stdout, onEnd: { _ in })
        stderr = LineReader(fd: process.stderrFD, maxLineBytes: 16_384, loop: loop, onInput: events.stderr, onEnd: { _ in })
        reaper.onExit(of: process.pid, events.exited)
    }

    func write(_ bytes: [UInt8]) { stdin?.write(bytes) }
    func takeBackUnreadStdin() -> Int { process.takeBackUnreadStdin().count }

    func closeStdin() {
        stdin?.cancel()
        stdin = nil
        process.closeStdin()
    }

    func signal(_ signo: Int32) { process.signal(signo) }
    func drainOutput() { stdout?.drainNow() }

    func close() {
        stdin?.cancel(); stdin = nil
        stdout?.cancel(); stdout = nil
        stderr?.cancel(); stderr = nil
    }
}
