import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `mojo-bridge status [--url http://127.0.0.1:9090] [--once] [--json]`: the daemon's live view
/// from `GET /v1/status` on the admin API, redrawn every second on a terminal (plain ANSI: cursor
/// home, erase line and below), like `vector top`; `--once` (or output that is not a terminal) prints one snapshot;
/// `--json` prints the API's JSON as is. Ctrl-C ends the live view.
enum StatusCommand {
    static let valued: Set<String> = ["--url", "--timeout"]
    static let switches: Set<String> = ["--once", "--json"]
    static let defaultURL = "http://127.0.0.1:9090"

    static func run(_ args: ParsedArguments) -> ExitCode {
        guard args.positional.isEmpty, args.trailing == nil else {
            printErr("mojo-bridge status: takes no positional arguments")
            return .usage
        }
        let url = args.last("--url") ?? env("MOJO_ADMIN_URL") ?? defaultURL
        guard var target = HealthCommand.parse(url) else {
            printErr("mojo-bridge status: --url must be http://HOST:PORT (the admin API), found \(url)")
            return .usage
        }
        if target.path == "/" { target.path = "/v1/status" }
        var timeoutMs = 2000
        if let t = args.last("--timeout") {
            guard let ms = Duration.milliseconds(parsing: t), ms > 0 else {
                printErr("mojo-bridge status: --timeout: expected a duration like 2s")
                return .usage
            }
            timeoutMs = ms
        }
        let json = args.switches.contains("--json")
        if json || args.switches.contains("--once") || isatty(1) == 0 {
            switch fetch(target, timeoutMs: timeoutMs) {
            case .failure(let e):
                printErr("mojo-bridge status: \(url): \(e.description)")
                return .failure
            case .success(let status):
                if json {
                    print(status.serialized())
                } else {
                    print(render(status, url: url, width: nil), terminator: "")
                }
                return .ok
            }
        }
        writeOut("\u{1B}[2J")
        while true {
            let text: String
            switch fetch(target, timeoutMs: timeoutMs) {
            case .failure(let e): text = "mojo-bridge status: \(url): \(e.description) (trying again every second; Ctrl-C ends)\n"
            case .success(let status): text = render(status, url: url, width: terminalWidth())
            }
            // Home, each line over the previous frame (erasing its rest), then erase below: no flicker.
            writeOut("\u{1B}[H" + text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\u{1B}[K\n") + "\u{1B}[J")
            var request = timespec(tv_sec: 1, tv_nsec: 0), remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
        }
    }

    /// `GET /v1/status` parsed; an error for anything but a 200 with a JSON object.
    static func fetch(_ target: (host: String, port: String, path: String), timeoutMs: Int) -> Result<JSONValue, HealthError> {
        switch HealthCommand.getBody(target, timeoutMs: timeoutMs) {
        case .failure(let e): return .failure(e)
        case .success(let (status, body)):
            guard status == 200 else {
                let text = String(decoding: body.prefix(200), as: UTF8.self)
                return .failure(HealthError("HTTP \(status)\(status == 404 ? " (a daemon older than /v1/status?)" : ""): \(text)"))
            }
            guard let value = try? JSONValue(parsing: body), value.objectValue != nil else {
                return .failure(HealthError("the answer is not a JSON object"))
            }
            return .success(value)
        }
    }

    // MARK: Rendering

    /// The snapshot as text: a header line, the tenants table, the sinks table. Lines are cut at
    /// `width` when given (a terminal).
    static func render(_ s: JSONValue, url: String, width: Int?) -> String {
        var out = ""
        let version = s["version"]?.stringValue ?? ""
        let uptime = s["uptimeSeconds"]?.doubleValue.map(duration) ?? "?"
        let spoolBytes = s["spool"]?["bytes"]?.intValue ?? 0
        var header = "mojo-bridge \(version.isEmpty ? "" : version + "  ")up \(uptime)  \(url)  spool \(bytes(spoolBytes))"
        if let dir = s["spool"]?["dir"]?.stringValue { header += " in \(dir)" }
        out += header + "\n\n"
        var tenants = [["TENANT", "STATE", "TRANSPORT", "SINCE", "RECONNECTS", "LAST RECONNECT", "GAPS", "LAST FAILURE"]]
        for t in s["tenants"]?.arrayValue ?? [] {
            let recovered: String
            switch t["lastReconnectRecovered"]?.boolValue {
            case true?: recovered = "recovered"
            case false?: recovered = "NOT recovered"
            case nil: recovered = "-"
            }
            tenants.append([t["tenant"]?.stringValue ?? "?", t["state"]?.stringValue ?? "?", t["transport"]?.stringValue ?? "-",
                            t["sinceSeconds"]?.doubleValue.map(duration) ?? "-", t["reconnects"]?.intValue.map(String.init) ?? "-",
                            recovered, t["gaps"]?.intValue.map(String.init) ?? "-", t["lastFailure"]?.stringValue ?? "-"])
        }
        out += table(tenants)
        out += "\n"
        var sinks = [["SINK", "KIND", "STATE", "PENDING", "IN FLIGHT", "DEAD", "RATE/S", "RESTARTS", "SPOOL", "LAST ERROR"]]
        for k in s["sinks"]?.arrayValue ?? [] {
            var lastError = k["lastError"]?.stringValue ?? "-"
            if let age = k["lastErrorAgeSeconds"]?.doubleValue, k["lastError"]?.stringValue != nil { lastError += " (\(duration(age)) ago)" }
            let rate = k["ratePerSecond"]?.doubleValue.map { String(($0 * 10).rounded() / 10) } ?? "-"
            sinks.append([k["sink"]?.stringValue ?? "?", k["kind"]?.stringValue ?? "?", k["state"]?.stringValue ?? "?",
                          k["pending"]?.intValue.map(String.init) ?? "-", k["inFlight"]?.intValue.map(String.init) ?? "-",
                          k["dead"]?.intValue.map(String.init) ?? "-", rate, k["childRestarts"]?.intValue.map(String.init) ?? "-",
                          k["spoolBytes"]?.intValue.map(bytes) ?? "-", lastError])
        }
        out += table(sinks)
        guard let width, width > 10 else { return out }
        return out.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.count > width ? String($0.prefix(width - 1)) + "…" : String($0) }
            .joined(separator: "\n")
    }

    /// Left-aligned columns, two spaces apart; the last column is not padded.
    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() where i < columns { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() where i < columns {
                line += i == columns - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// `42s`, `3m12s`, `2h05m`, `3d04h`.
    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(two(s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(two(s % 3600 / 60))m" }
        return "\(s / 86400)d\(two(s % 86400 / 3600))h"
    }

    /// `812 B`, `12.3 KiB`, `4.0 MiB`.
    static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        var value = Double(n) / 1024
        for unit in ["KiB", "MiB", "GiB"] {
            if value < 1024 || unit == "GiB" { return "\((value * 10).rounded() / 10) \(unit)" }
            value /= 1024
        }
        return "\(n) B"
    }

    static func terminalWidth() -> Int? {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    static func writeOut(_ text: String) { writeAll(1, text) }
}

extension HealthCommand {
    /// The status code and body of `GET path` (`Connection: close`; the body ends at
    /// Content-Length or the close; at most 8 MiB), or why there is none.
    static func getBody(_ target: (host: String, port: String, path: String), timeoutMs: Int) -> Result<(Int, [UInt8]), HealthError> {
        let opened = openRequest(target, timeoutMs: timeoutMs, accept: "application/json",
                                 connectHint: " (is the daemon running with admin { listen = ... }?)")
        guard case .success(let fd) = opened else { return opened.map { _ in (0, []) } }
        defer { close(fd) }
        let limit = 8 << 20
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        var headEnd: Int?
        var contentLength: Int?
        while data.count < limit {
            if let headEnd, let contentLength, data.count >= headEnd + contentLength { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return .failure(HealthError("no answer within \(timeoutMs) ms")) }
            if n == 0 { break }
            data += buffer[0..<n]
            if headEnd == nil, let end = Self.headerEnd(data) {
                headEnd = end
                let head = String(decoding: data[..<end], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    contentLength = Int(String(line.dropFirst(15)).trimmingCharacters())
                }
            }
        }
        guard let headEnd else { return .failure(HealthError(data.isEmpty ? "connection closed before an answer" : "no complete HTTP answer")) }
        let line = String(decoding: data.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .failure(HealthError("not an HTTP answer: \(line.prefix(80))"))
        }
        var body = Array(data[headEnd...])
        if let contentLength, body.count > contentLength { body = Array(body.prefix(contentLength)) }
        return .success((status, body))
    }

    /// The index after the blank line ending the head, if it arrived.
    static func headerEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for i in 0...(data.count - 4) where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}
