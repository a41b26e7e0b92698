import Curl
import Diagnostics
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// What every subcommand runs on: one event loop, the child reaper, libcurl, the logger, and the
/// exit code the run ends with.
final class Runtime {
    let loop: EventLoop
    let reaper: ChildReaper
    let log: Logger
    private(set) var exitCode: ExitCode = .ok
    /// Whether the level and format were chosen on the command line or in the environment (they
    /// then beat the config).
    let levelFromCommandLine: Bool
    let formatFromCommandLine: Bool
    private var curlMulti: CurlMulti?

    init(args: ParsedArguments, defaultLevel: LogLevel = .info) throws(UsageError) {
        // The environment (MOJO_LOG_LEVEL, MOJO_LOG_FORMAT) beats the config file too: a
        // container or unit can turn on debug logs without a new file.
        levelFromCommandLine = args.last("--log-level") != nil || env("MOJO_LOG_LEVEL") != nil
        formatFromCommandLine = args.last("--log-format") != nil || env("MOJO_LOG_FORMAT") != nil
        var level = defaultLevel
        if let l = args.last("--log-level") {
            guard let parsed = LogLevel(name: l) else { throw Help.badChoice("--log-level", l, Help.logLevels) }
            level = parsed
        } else if let l = env("MOJO_LOG_LEVEL"), let parsed = LogLevel(name: l) {
            level = parsed
        }
        var format = LogFormat.logfmt
        if let f = args.last("--log-format") ?? env("MOJO_LOG_FORMAT") {
            guard let parsed = LogFormat(rawValue: f) else { throw Help.badChoice("--log-format", f, Help.logFormats) }
            format = parsed
        }
        log = Logger(level: level, format: format)
        do {
            loop = try EventLoop()
            reaper = try ChildReaper(loop: loop)
        } catch {
            // Without an event loop nothing can run: report it as the internal error it is.
            printErr("mojo-bridge: cannot start the event loop: \(error)")
            exit(ExitCode.software.rawValue)
        }
    }

    /// HTTP for polling and webhooks, created on first use. libcurl itself is loaded only by the
    /// first request; if it cannot be, every request fails saying so.
    func curl() -> CurlMulti {
        if let curlMulti { return curlMulti }
        let multi = CurlMulti(loop: loop)
        curlMulti = multi
        return multi
    }

    /// Calls `handler` on SIGINT and SIGTERM; a second signal exits at once.
    func onStopSignal(_ handler: @escaping () -> Void) {
        var signalled = false
        for s in [SIGINT, SIGTERM] {
            try? loop.onSignal(s) { [weak self] in
                if signalled {
                    self?.log.warn("second stop signal: exiting now")
                    exit(self?.exitCode.rawValue ?? 1)
                }
                signalled = true
                handler()
            }
        }
    }

    /// Ends the run with `code` (the first non-zero code wins). The loop stops once the HTTP
    /// requests in flight are done, for at most 2 s: a polling session's goodbye (Socket.IO
    /// DISCONNECT and Engine.IO close, posted by `stop()`) must leave before the process does.
    func finish(_ code: ExitCode) {
        if exitCode == .ok { exitCode = code }
        guard !finishing else { return }
        finishing = true
        var checks = 0
        func stopWhenQuiet() {
            checks += 1
            if (curlMulti?.inFlight ?? 0) == 0 || checks > 200 { return loop.stop() }
            loop.schedule(afterMilliseconds: 10) { stopWhenQuiet() }
        }
        // On the next turn: callers stop their sessions right after calling this.
        loop.schedule(afterMilliseconds: 0) { stopWhenQuiet() }
    }
    private var finishing = false

    /// Runs the loop until `finish`.
    func run() -> ExitCode {
        do { try loop.run() } catch {
            log.error("event loop failed", [("error", "\(error)")])
            return .software
        }
        return exitCode
    }
}
