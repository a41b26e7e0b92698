import Foundation
import JSON

/// A running MOJO dev server (Tests/DevServer), started on a free port for one test and stopped by it.
///
/// Readiness is awaited by reading the server's `{"event":"ready",...}` line, never by sleeping.
public final class DevServer: @unchecked Sendable {
    // @unchecked Sendable: the Process is only started in init and stopped in stop(); reads of the
    // immutable fields are safe from any thread.
    public let port: Int
    public let stateDir: String
    private let process: Process
    private let ownsStateDir: Bool
    private let stdinPipe: Pipe

    static let launcher = """
        import os, runpy, signal, sys, threading
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        def watch():
            sys.stdin.buffer.read()
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
        path = sys.argv[1]
        sys.argv = sys.argv[1:]
        sys.path.insert(0, os.path.dirname(path))
        runpy.run_path(path, run_name="__main__")
        """

    /// The server's base URL from its ready line, e.g. `http://127.0.0.1:PORT` (https with TLS).
    public let url: String

    /// Starts a server; `demo` seeds the demo tenant, users and conversation.
    public init(demo: Bool = true, stateDir: String? = nil, port: Int = 0, extraArguments: [String] = []) throws {
        let dir = try stateDir ?? RepoPaths.temporaryDirectory("mojo-devserver")
        self.stateDir = dir
        self.ownsStateDir = stateDir == nil
        // Through a small launcher: the test runner's threads block most signals and a spawned
        // process inherits that mask, so it is reset here (else SIGTERM would never arrive); and
        // the server exits when our end of its stdin closes, so a crashed test run leaves no
        // server behind.
        let input = Pipe()
        self.stdinPipe = input
        let started = try PythonLauncher.start(
            ["-c", Self.launcher, RepoPaths.devServer, "--host", "127.0.0.1", "--port", String(port), "--state-dir", dir]
                + (demo ? ["--demo"] : []) + extraArguments,
            stdin: input, logPath: dir + "/server.log", name: "the dev server")
        self.process = started.process
        guard let port = started.ready["port"]?.intValue, let url = started.ready["url"]?.stringValue else {
            throw DevServerError.badReadyLine(started.ready.serialized())
        }
        self.port = port
        self.url = url
    }

    /// Stops the server with SIGTERM and waits for it; SIGKILL if it lingers.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// Freezes the server (SIGSTOP), for liveness tests.
    public func freeze() { kill(process.processIdentifier, SIGSTOP) }
    /// Resumes a frozen server.
    public func thaw() { kill(process.processIdentifier, SIGCONT) }

    deinit {
        stop()
        if ownsStateDir { try? FileManager.default.removeItem(atPath: stateDir) }
    }
}

/// Why a dev server could not be started.
public enum DevServerError: Error, CustomStringConvertible {
    case exited(log: String)
    case badReadyLine(String)
    case control(String)

    public var description: String {
        switch self {
        case .exited(let log): "dev server exited before it was ready:\n\(log)"
        case .badReadyLine(let l): "dev server printed an unexpected first line: \(l)"
        case .control(let m): "dev server control API: \(m)"
        }
    }
}
