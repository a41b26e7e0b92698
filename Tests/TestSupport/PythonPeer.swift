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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RepoPaths.python)
        p.arguments = [RepoPaths.root + "/Tests/Peers/" + script, "--port", "0"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = input
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        var line = Data()
        while true {
            let c = out.fileHandleForReading.readData(ofLength: 1)
            if c.isEmpty { throw DevServerError.exited(log: "\(script) exited before it was ready") }
            if c[0] == 0x0A { break }
            line.append(c)
        }
        guard let port = (try JSONValue(parsing: [UInt8](line)))["port"]?.intValue else {
            throw DevServerError.badReadyLine(String(decoding: line, as: UTF8.self))
        }
        self.port = port
    }

    /// A control client for the peer's HTTP endpoints.
    public var control: ControlClient { ControlClient(port: port) }

    deinit {
        process.terminate()
        try? input.fileHandleForWriting.close()
    }
}
