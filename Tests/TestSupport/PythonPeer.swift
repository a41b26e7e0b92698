import Foundation
import JSON

/// A Python test peer from Tests/Peers, started on a free port; readiness is its
/// `{"event":"ready","port":P}` line. It exits when our end of its stdin closes.
public final class PythonPeer: @unchecked Sendable {
    // @unchecked Sendable: the Process is configured in init and only signalled afterwards.
    public let port: Int
    private let process: Process
    private let input = Pipe()

    /// Starts `Tests/Peers/<script>` with `arguments`.
    public init(_ script: String, arguments: [String] = []) throws {
        let started = try PythonLauncher.start([RepoPaths.root + "/Tests/Peers/" + script, "--port", "0"] + arguments,
                                               stdin: input, logPath: nil, name: script)
        process = started.process
        guard let port = started.ready["port"]?.intValue else { throw DevServerError.badReadyLine(started.ready.serialized()) }
        self.port = port
    }

    /// A control client for the peer's HTTP endpoints.
    public var control: ControlClient { ControlClient(port: port) }

    deinit {
        process.terminate()
        try? input.fileHandleForWriting.close()
    }
}

/// The one way Python peers are started: the shared .venv's interpreter with `arguments`,
/// stdout read up to the peer's `{"event":"ready",...}` line (readiness awaited, never slept
/// for), stderr to `logPath` (nil: discarded). Peers exit when our end of `stdin` closes.
public enum PythonLauncher {
    public static func start(_ arguments: [String], stdin: Pipe, logPath: String?, name: String) throws -> (process: Process, ready: JSONValue) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RepoPaths.python)
        p.arguments = arguments
        p.standardInput = stdin
        let out = Pipe()
        p.standardOutput = out
        if let logPath {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: logPath) ?? FileHandle.nullDevice
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        var line = Data()
        let handle = out.fileHandleForReading
        while true {
            let chunk = handle.readData(ofLength: 1)
            if chunk.isEmpty {
                let log = logPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
                throw DevServerError.exited(log: log.isEmpty ? "\(name) exited before it was ready" : log)
            }
            if chunk[0] == 0x0A { break }
            line.append(chunk)
        }
        let ready = try JSONValue(parsing: [UInt8](line))
        guard ready["event"]?.stringValue == "ready" else { throw DevServerError.badReadyLine(String(decoding: line, as: UTF8.self)) }
        return (p, ready)
    }
}
