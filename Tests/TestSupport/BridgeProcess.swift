import Foundation
import Synchronization

/// A `mojo-bridge` process run by a test: arguments, environment and stdin are the test's; stdout is
/// read line by line as it arrives so a test can await a line instead of sleeping.
public final class BridgeProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is configured before `run()` and only signalled afterwards;
    // the collected output is guarded by the mutex and the condition.
    private let process = Process()
    private let stdinPipe = Pipe()
    private let state = Mutex<(out: [UInt8], err: [UInt8], outClosed: Bool, errClosed: Bool)>(([], [], false, false))
    private let changed = NSCondition()

    /// Starts the built binary with `arguments`; `environment` is added to a minimal environment
    /// (PATH, HOME) so that no MOJO_* variable of the developer's shell leaks into a test.
    public init(_ arguments: [String], environment: [String: String] = [:], executable: String = RepoPaths.bridgeExecutable,
                directory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.arguments = arguments
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdinPipe
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.append(d, toOut: true)
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.append(d, toOut: false)
        }
        try process.run()
    }

    private func append(_ d: Data, toOut: Bool) {
        changed.lock()
        state.withLock { s in
            if toOut {
                if d.isEmpty { s.outClosed = true } else { s.out.append(contentsOf: d) }
            } else {
                if d.isEmpty { s.errClosed = true } else { s.err.append(contentsOf: d) }
            }
        }
        changed.broadcast()
        changed.unlock()
    }

    /// The process id (to read /proc/PID).
    public var pid: Int32 { process.processIdentifier }

    /// Everything printed on stdout so far.
    public var stdout: String { state.withLock { String(decoding: $0.out, as: UTF8.self) } }
    /// Everything printed on stderr so far.
    public var stderr: String { state.withLock { String(decoding: $0.err, as: UTF8.self) } }
    /// Complete stdout lines so far.
    public var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    /// Waits until some stdout line satisfies `predicate` (or `timeout` seconds pass); returns it.
    @discardableResult
    public func waitForLine(timeout: Double = 10, _ predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        changed.lock()
        defer { changed.unlock() }
        while true {
            if let l = lines.first(where: predicate) { return l }
            if Date() >= deadline { return nil }
            _ = changed.wait(until: deadline)
        }
    }

    /// Waits until stderr contains `text` at least `occurrences` times.
    @discardableResult
    public func waitForStderr(_ text: String, occurrences: Int = 1, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        changed.lock()
        defer { changed.unlock() }
        while stderr.components(separatedBy: text).count - 1 < occurrences {
            if Date() >= deadline { return false }
            _ = changed.wait(until: deadline)
        }
        return true
    }

    /// Writes to the process's stdin.
    public func write(_ text: String) { stdinPipe.fileHandleForWriting.write(Data(text.utf8)) }
    /// Closes the process's stdin (EOF).
    public func closeStdin() { try? stdinPipe.fileHandleForWriting.close() }

    /// Sends a signal.
    public func signal(_ signo: Int32) { kill(process.processIdentifier, signo) }

    /// The shared objects the running process has mapped (file names from /proc/PID/maps).
    public func mappedLibraries() throws -> Set<String> {
        // Read to EOF: /proc files report size 0, which String(contentsOfFile:) can cut short.
        guard let file = FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/maps") else {
            throw CocoaError(.fileReadNoSuchFile)
        }
        defer { try? file.close() }
        let maps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        return Set(maps.split(separator: "\n").compactMap { line in
            guard let slash = line.firstIndex(of: "/") else { return nil }
            return line[slash...].split(separator: "/").last.map(String.init)
        })
    }

    /// Waits for exit (SIGKILL after `timeout` seconds) and returns the exit status; a process
    /// killed by a signal returns 128 + the signal number, as a shell would.
    @discardableResult
    public func wait(timeout: Double = 15) -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let p = process
        DispatchQueue.global().async { p.waitUntilExit(); done.signal() }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        // Let the readers drain what the process wrote before it exited.
        changed.lock()
        let deadline = Date().addingTimeInterval(2)
        while !state.withLock({ $0.outClosed && $0.errClosed }) && Date() < deadline { _ = changed.wait(until: deadline) }
        changed.unlock()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Runs to completion and returns status, stdout and stderr.
    public static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil, timeout: Double = 20,
                           directory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try BridgeProcess(arguments, environment: environment, directory: directory)
        if let stdin { p.write(stdin) }
        p.closeStdin()
        let status = p.wait(timeout: timeout)
        return (status, p.stdout, p.stderr)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
