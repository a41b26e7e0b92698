import Admin
import Curl
import Diagnostics
import Mojo
import Relay
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// `mojo-bridge run`: the daemon. SIGTERM/SIGINT stop it gracefully (a second one at once),
/// SIGHUP reloads the configuration (a broken one is refused and the old one keeps running).
final class RunCommand {
    static let valued: Set<String> = ["--config", "--log-level", "--log-format", "--shutdown-timeout"]

    private let runtime: Runtime
    private let path: String
    private var bridge: Bridge?
    private var adminServer: AdminServer?
    private var endpoints: AdminEndpoints?
    private let shutdownMs: Int

    init(args: ParsedArguments) throws(UsageError) {
        guard args.positional.isEmpty, args.trailing == nil else { throw UsageError(description: "run takes no positional arguments") }
        path = ConfigFile.path(args)
        runtime = try Runtime(args: args)
        if let t = args.last("--shutdown-timeout") {
            guard let ms = Duration.milliseconds(parsing: t) else { throw UsageError(description: "--shutdown-timeout: expected a duration like 10s") }
            shutdownMs = ms
        } else {
            shutdownMs = 10_000
        }
    }

    func run() -> ExitCode {
        guard let config = ConfigFile.load(path, prefix: "mojo-bridge run: ", suffix: " in the configuration; not started") else { return .config }
        var log = runtime.log
        if !runtime.levelFromCommandLine, let level = LogLevel(name: config.log.level.rawValue) { log.level = level }
        if !runtime.formatFromCommandLine, let format = LogFormat(rawValue: config.log.format.rawValue) { log.format = format }
        let bridge = Bridge(config: config, loop: runtime.loop, reaper: runtime.reaper, curl: runtime.curl(), logger: log,
                            sinkFactory: SinkFactories.make(loop: runtime.loop, reaper: runtime.reaper, curl: runtime.curl(), logger: log, config: config))
        self.bridge = bridge
        runtime.onStopSignal { [weak self] in self?.shutdown() }
        try? runtime.loop.onSignal(SIGHUP) { [weak self] in self?.reload(log) }
        log.info("mojo-bridge starting", [("version", mojoBridgeVersion), ("config", path), ("pid", String(getpid()))])
        do { try bridge.start() } catch {
            printErr("mojo-bridge run: \(error.description); not started")
            return .config
        }
        if let admin = config.admin {
            let endpoints = AdminEndpoints(bridge: bridge, loop: runtime.loop, logger: log)
            do {
                adminServer = try AdminServer(listen: admin.listen, loop: runtime.loop, handler: endpoints.router, logger: log)
                self.endpoints = endpoints
                log.info("admin server listening", [("listen", admin.listen), ("port", String(adminServer?.port ?? 0))])
            } catch {
                printErr("mojo-bridge run: admin server: \(error.description); not started")
                return .config
            }
        }
        return runtime.run()
    }

    private func reload(_ log: Logger) {
        log.info("SIGHUP: reloading configuration", [("config", path)])
        switch ConfigLoader.load(path: path, env: .system) {
        case .failure(let errors):
            for e in errors { log.error("configuration error", [("error", e.description)]) }
            log.error("new configuration refused; the running one stays in force", [("errors", String(errors.count))])
        case .success(let c):
            bridge?.reload(c)
            endpoints?.reloadSecrets()
        }
    }

    private func shutdown() {
        guard let bridge else { return runtime.finish(.ok) }
        // Bound the whole shutdown: sinks get the grace period, then the process ends regardless.
        runtime.loop.schedule(afterMilliseconds: shutdownMs + 2000) { [weak self] in
            self?.runtime.log.warn("shutdown took too long; exiting")
            self?.runtime.finish(.ok)
        }
        adminServer?.close()
        bridge.shutdown(graceMs: shutdownMs) { [weak self] in self?.runtime.finish(.ok) }
    }
}

/// The sink kinds this build has.
enum SinkFactories {
    static func make(loop: EventLoop, reaper: ChildReaper, curl: CurlMulti, logger: Logger, config: BridgeConfig) -> SinkFactory {
        // No child sees the daemon's token or any secret given by environment variable.
        var hidden: Set<String> = ["MOJO_TOKEN"]
        for t in config.tenants { if case .env(let name) = t.token { hidden.insert(name) } }
        for s in config.sinks {
            if case .webhook(let w) = s.kind { for case .env(let name) in w.secrets { hidden.insert(name) } }
        }
        return { settings, host throws(SinkSetupError) in
            switch settings.kind {
            case .pipe(let pipe):
                return PipeSink(settings: settings, pipe: pipe, loop: loop, reaper: reaper, logger: logger, host: host, hiddenEnvironment: hidden)
            case .webhook(let webhook):
                do throws(HTTPError) { try curl.prepare() } catch { throw SinkSetupError(sink: settings.name, reason: error.message) }
                return try WebhookSink(settings: settings, webhook: webhook, curl: curl, logger: logger, host: host)
            case .email(let email):
                return try EmailSinkFactory.make(settings: settings, email: email, config: config, curl: curl, loop: loop, logger: logger, host: host)
            }
        }
    }
}
