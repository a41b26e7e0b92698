import Mojo
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// The connection options shared by `tail`, `send` and `pipe` (CONN in the usage text).
struct ConnectionOptions {
    static let valued: Set<String> = ["--url", "--tenant", "--token-file", "--token-command", "--transport", "--ca-file", "--path",
                                      "--log-level", "--log-format", "--connect-timeout", "--namespace"]

    var configuration: SessionConfiguration

    /// Reads the options, falling back to MOJO_URL, MOJO_TENANT and MOJO_TOKEN.
    init(_ args: ParsedArguments) throws(UsageError) {
        guard let url = args.last("--url") ?? env("MOJO_URL") else {
            throw UsageError(description: "no server: pass --url URL or set MOJO_URL")
        }
        let server: ServerURL
        do { server = try ServerURL(url, path: args.last("--path")) } catch { throw UsageError(description: error.description) }
        let token: TokenSource
        if let file = args.last("--token-file") {
            token = .file(file)
        } else if let command = args.last("--token-command") {
            let argv = try ArgumentParser.splitWords(command)
            guard !argv.isEmpty else { throw UsageError(description: "--token-command is empty") }
            token = .command(argv)
        } else {
            token = .environment("MOJO_TOKEN")
        }
        var config = SessionConfiguration(url: server, tenant: args.last("--tenant") ?? env("MOJO_TENANT"), token: token)
        if let mode = args.last("--transport") {
            guard let m = TransportMode(rawValue: mode) else { throw Help.badChoice("--transport", mode, Help.transports) }
            config.transport = m
        }
        if let ns = args.last("--namespace") {
            guard ns.hasPrefix("/"), !ns.contains(","), !ns.contains(where: { $0 == " " || $0 == "\n" }) else {
                throw UsageError(description: "--namespace must start with / (e.g. /chat) and hold no comma or space")
            }
            config.namespace = ns
        }
        if let ca = args.last("--ca-file") {
            guard access(ca, R_OK) == 0 else { throw UsageError(description: "--ca-file \(ca): not readable") }
            config.tls.caFile = ca
        }
        if let t = args.last("--connect-timeout") {
            guard let ms = Duration.milliseconds(parsing: t) else { throw UsageError(description: "--connect-timeout: expected a duration like 10s or 500ms") }
            config.connectTimeoutMs = ms
        }
        configuration = config
    }
}

/// An environment variable, nil when unset or empty.
func env(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(cString: v)
    return s.isEmpty ? nil : s
}

extension Duration {
    /// Parses `500ms`, `10s`, `2m`, `1h` or a bare number of seconds into milliseconds.
    static func milliseconds(parsing text: String) -> Int? {
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let v = Double(text.dropLast(suffix.count)), v >= 0 else { return nil }
            return bounded(v * Double(factor))
        }
        guard let v = Double(text), v >= 0 else { return nil }
        return bounded(v * 1000)
    }

    /// At most 365 days (as in the config); `1e300s` or `nan` is refused, not a trap in `Int(_:)`.
    private static func bounded(_ ms: Double) -> Int? {
        guard ms.isFinite, ms <= 31_536_000_000 else { return nil }
        return Int(ms)
    }
}

extension ExitCode {
    /// The exit code that names a connection failure class.
    init(_ failure: ConnectionFailure) {
        switch failure {
        case .transport(let e):
            switch e.kind {
            case .tls: self = .tls
            case .timedOut: self = .timeout
            default: self = .unavailable
            }
        case .httpStatus, .handshake: self = .protocolError
        case .protocolViolation: self = .dataError
        case .authRefused: self = .authRefused
        case .token(let e):
            switch e {
            case .fileUnreadable, .fileEmpty: self = .noInput
            case .environmentUnset: self = .config
            default: self = .authRefused
            }
        case .pingTimeout: self = .timeout
        case .closedByServer: self = .unavailable
        case .payloadTooLarge: self = .dataError
        }
    }
}

extension ConnectionFailure {
    /// The failure and, when there is one, what to do about it: `... (hint: ...)`.
    var report: String { description + (hint.map { " (hint: \($0))" } ?? "") }
}
