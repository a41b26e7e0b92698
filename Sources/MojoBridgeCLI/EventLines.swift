import JSON
import Relay
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// JSON documents read from a file or stdin, one per line (what `tail` prints), each with its
/// line number; blank lines and lines starting with `#` are skipped. A file holding a single
/// (possibly pretty-printed) JSON document is read as that one document.
struct EventLines {
    struct Line {
        var number: Int
        var value: JSONValue
    }

    var lines: [Line] = []

    /// The largest input read (events, tests): 16 MiB.
    static let maxBytes = 16 << 20

    /// Reads `path` (`-` is stdin); the failure is a message and the exit code to use.
    static func read(_ path: String) -> Result<EventLines, LineError> {
        let bytes: [UInt8]
        if path == "-" {
            guard let b = readStdin(maxBytes: maxBytes) else { return .failure(LineError("stdin: more than 16 MiB or unreadable", .noInput)) }
            bytes = b
        } else {
            switch FileReader.read(path: path, maxBytes: maxBytes) {
            case .failure(let e): return .failure(LineError("\(path): \(e)", .noInput))
            case .success(let b): bytes = b
            }
        }
        return parse(bytes, name: path == "-" ? "stdin" : path)
    }

    static func parse(_ bytes: [UInt8], name: String) -> Result<EventLines, LineError> {
        var out = EventLines()
        var number = 0
        var start = 0
        var firstError: (Int, String)?
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            number += 1
            let line = bytes[start..<end]
            let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if let first = trimmed.first, first != UInt8(ascii: "#") {
                do throws(JSONError) {
                    out.lines.append(Line(number: number, value: try JSONValue(parsing: line)))
                } catch {
                    if firstError == nil { firstError = (number, error.description) }
                }
            }
            start = end + 1
        }
        guard let (line, message) = firstError else { return .success(out) }
        // Not JSON lines: perhaps one pretty-printed document.
        if let whole = try? JSONValue(parsing: bytes) { return .success(EventLines(lines: [Line(number: 1, value: whole)])) }
        return .failure(LineError("\(name):\(line): not valid JSON: \(message) (hint: one JSON object per line, as `mojo-bridge tail` prints)", .dataError))
    }

    private static func readStdin(maxBytes: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return out }
            out += buffer[0..<n]
            if out.count > maxBytes { return nil }
        }
    }
}

struct LineError: Error {
    var message: String
    var code: ExitCode
    init(_ message: String, _ code: ExitCode) {
        self.message = message
        self.code = code
    }
}

/// The bridge's own user per tenant, as `run` learns it: the `sub` claim of the tenant's token
/// (read from `env:` or `file:` references; `command:` tokens are never run offline).
enum SelfUsers {
    static func from(_ config: BridgeConfig) -> [String: String] {
        var out: [String: String] = [:]
        for tenant in config.tenants {
            if let sub = ConfigReadiness.tokenSubject(tenant.token) { out[tenant.id] = sub }
        }
        return out
    }
}
