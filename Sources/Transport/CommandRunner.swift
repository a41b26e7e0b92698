#if canImport(Glibc)
import Glibc
#endif

/// Runs a short command to completion on the event loop and collects its output: used for
/// `--token-command`. Bounded in time and output; no shell.
public final class CommandRunner {
    /// What a finished command produced.
    public struct Output: Sendable {
        public var exit: ChildExit
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    /// Why a command produced no output.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case spawn(IOError)
        case timedOut(milliseconds: Int)
        case outputTooLarge(limit: Int)

        public var description: String {
            switch self {
            case .spawn(let e): "could not start: \(e)"
            case .timedOut(let ms): "no result within \(ms) ms (killed)"
            case .outputTooLarge(let limit): "printed more than \(limit) bytes (killed)"
            }
        }
    }

    private let child: ChildProcess
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    private var watches: [FDWatch] = []
    private var exit: ChildExit?
    private var openStreams = 2
    private var timer: TimerID?
    private var failure: Failure?
    private var completion: ((Result<Output, Failure>) -> Void)?
    private let loop: EventLoop
    private let maxOutput: Int

    /// Starts `argv`; `completion` runs once on the loop.
    @discardableResult
    public static func run(_ argv: [String], timeoutMs: Int = 10_000, maxOutput: Int = 65_536,
                           on loop: EventLoop, reaper: ChildReaper,
                           completion: @escaping (Result<Output, Failure>) -> Void) -> CommandRunner? {
        let child: ChildProcess
        do { child = try ChildProcess(argv: argv, pipes: [.stdout, .stderr]) } catch {
            loop.schedule(afterMilliseconds: 0) { completion(.failure(.spawn(error))) }
            return nil
        }
        let runner = CommandRunner(child: child, loop: loop, maxOutput: maxOutput, completion: completion)
        runner.start(timeoutMs: timeoutMs, reaper: reaper)
        return runner
    }

    private init(child: ChildProcess, loop: EventLoop, maxOutput: Int, completion: @escaping (Result<Output, Failure>) -> Void) {
        self.child = child
        self.loop = loop
        self.maxOutput = maxOutput
        self.completion = completion
    }

    private func start(timeoutMs: Int, reaper: ChildReaper) {
        for (fd, isOut) in [(child.stdoutFD, true), (child.stderrFD, false)] {
            do {
                let w = try loop.watch(fd: fd, readable: true, writable: false) { [self] _, _, _ in drain(fd: fd, isOut: isOut) }
                watches.append(w)
            } catch {
                openStreams -= 1
            }
        }
        timer = loop.schedule(afterMilliseconds: timeoutMs) { [self] in
            failure = .timedOut(milliseconds: timeoutMs)
            child.signal(SIGKILL)
        }
        reaper.onExit(of: child.pid) { [self] status in
            exit = status
            finishIfDone()
        }
    }

    private func drain(fd: Int32, isOut: Bool) {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                if isOut { out.append(contentsOf: buf[0..<n]) } else { err.append(contentsOf: buf[0..<min(n, max(0, maxOutput - err.count))]) }
                if out.count > maxOutput && failure == nil {
                    failure = .outputTooLarge(limit: maxOutput)
                    child.signal(SIGKILL)
                }
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            // EOF or error: this stream is done.
            if let i = watches.firstIndex(where: { $0.fd == fd }) { watches[i].cancel(); watches.remove(at: i) }
            if isOut { child.closeStdout() } else { child.closeStderr() }
            openStreams -= 1
            finishIfDone()
            return
        }
    }

    private func finishIfDone() {
        guard let exit, openStreams <= 0, let completion else { return }
        self.completion = nil
        if let timer { loop.cancel(timer) }
        if let failure { completion(.failure(failure)) } else { completion(.success(Output(exit: exit, stdout: out, stderr: err))) }
    }
}
