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
    static let valued: Set<String> = ["--config", "--log-level", "--log-format", "--shutdown-timeout", "--shard"]

    private let runtime: Runtime
    private let path: String
    private var bridge: Bridge?
    private var adminServer: AdminServer?
    private var endpoints: AdminEndpoints?
    private let shutdownMs: Int
    private let shardFlag: String?
    private var shard: Shard?
    private var notify: SystemdNotify?

    init(args: ParsedArguments) throws(UsageError) {
        guard args.positional.isEmpty, args.trailing == nil else { throw UsageError(description: "run takes no positional arguments") }
        path = ConfigFile.path(args)
        runtime = try Runtime(args: args)
        shardFlag = args.last("--shard")
        if let t = args.last("--shutdown-timeout") {
            guard let ms = Duration.milliseconds(parsing: t) else { throw UsageError(description: "--shutdown-timeout: expected a duration like 10s") }
            shutdownMs = ms
        } else {
            shutdownMs = 10_000
        }
    }

    func run() -> ExitCode {
        guard let loaded = ConfigFile.load(path, prefix: "mojo-bridge run: ", suffix: " in the configuration; not started") else { return .config }
        let unavailable = SinkKinds.unavailable(in: loaded)
        guard unavailable.isEmpty else {
            for e in unavailable { printErr(e.description) }
            printErr("mojo-bridge run: \(path): \(unavailable.count) error\(unavailable.count == 1 ? "" : "s") in the configuration; not started")
            return .config
        }
        switch Deployment.shard(flag: shardFlag, config: loaded) {
        case .success(let s): shard = s
        case .failure(let e): printErr("mojo-bridge run: \(e.description); not started"); return .config
        }
        let config = Deployment.apply(shard, to: loaded)
        if let e = ProxySetup.apply(config.server) { printErr("mojo-bridge run: server: \(e.description); not started"); return .config }
        notify = Deployment.systemdNotify()
        var log = runtime.log
        if !runtime.levelFromCommandLine, let level = LogLevel(name: config.log.level.rawValue) { log.level = level }
        if !runtime.formatFromCommandLine, let format = LogFormat(rawValue: config.log.format.rawValue) { log.format = format }
        let bridge = Bridge(config: config, loop: runtime.loop, reaper: runtime.reaper, curl: runtime.curl(), logger: log,
                            sinkFactory: SinkKinds.factory(loop: runtime.loop, reaper: runtime.reaper, curl: runtime.curl(), logger: log,
                                                           config: { [weak self] in self?.bridge?.config ?? config }))
        self.bridge = bridge
        bridge.live.version = mojoBridgeVersion
        try? bridge.metrics.gauge("mojo_bridge_build_info", help: "Always 1; the version in a label",
                                  labels: [("version", mojoBridgeVersion)]).set(1)
        ProcessMetrics.register(on: bridge.metrics)
        if let shard { bridge.configFilter = { Deployment.apply(shard, to: $0) } }
        runtime.onStopSignal { [weak self] in self?.shutdown() }
        try? runtime.loop.onSignal(SIGHUP) { [weak self] in
            log.info("SIGHUP received")
            self?.reload(log)
        }
        log.info("mojo-bridge starting", [("version", mojoBridgeVersion), ("config", path), ("pid", String(getpid()))])
        if let proxy = ProxySetup.summary(config.server) { log.info("proxy settings from the configuration", proxy) }
        if let shard {
            log.info("shard", [("shard", shard.description), ("tenants", String(config.tenants.count)),
                               ("of", String(loaded.tenants.count)), ("spool", config.spool.directory)])
        }
        do { try bridge.start() } catch {
            printErr("mojo-bridge run: \(error.description); not started")
            return .config
        }
        if let admin = config.admin {
            let endpoints = AdminEndpoints(bridge: bridge, loop: runtime.loop, logger: log)
            endpoints.onReload = { [weak self] in self?.reload(log) }
            do {
                adminServer = try AdminServer(listen: admin.listen, loop: runtime.loop, handler: endpoints.router, logger: log)
                self.endpoints = endpoints
                log.info("admin server listening", [("listen", admin.listen), ("port", String(adminServer?.port ?? 0))])
            } catch {
                printErr("mojo-bridge run: admin server: \(error.description); not started")
                return .config
            }
        }
        if let notify {
            Deployment.announceReady(notify, bridge: bridge, loop: runtime.loop, log: log)
            notify.startWatchdog(on: runtime.loop)
        }
        return runtime.run()
    }

    /// Reloads the configuration file (SIGHUP, `POST /v1/reload`); returns the errors that kept
    /// the running configuration in force, nil when the new one was applied.
    @discardableResult
    private func reload(_ log: Logger) -> [String]? {
        log.info("reloading configuration", [("config", path)])
        var errors: [String] = []
        switch ConfigLoader.load(path: path, env: .system) {
        case .failure(let e):
            errors = e.map(\.description)
        case .success(let c):
            errors = SinkKinds.unavailable(in: c).map(\.description)
            if errors.isEmpty {
                notify?.reloading()
                if let e = ProxySetup.apply(c.server) {
                    log.error("proxy settings not applied; the previous ones stay in force", [("error", e.description)])
                }
                if Deployment.shard(flag: shardFlag, config: c).map({ $0 == shard }) != .success(true) {
                    log.warn("the shard setting changed; it takes effect at the next start", [("shard", shard?.description ?? "none")])
                }
                bridge?.reload(c)
                bridge?.recordReload(success: true)
                notify?.ready(status: "configuration reloaded")
                return nil
            }
        }
        for e in errors { log.error("configuration error", [("error", e)]) }
        log.error("new configuration refused; the running one stays in force", [("errors", String(errors.count))])
        bridge?.recordReload(success: false)
        return errors
    }

    private func shutdown() {
        notify?.stopping()
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

