import Diagnostics
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// `type = pipe`: events to child processes, one per conversation or one per route.
public final class PipeSink: Sink {
    public let name: String
    private let settings: PipeSinkSettings
    private let loop: any Scheduler
    private let launcher: PipeChildLauncher
    private let log: Logger
    private weak var host: SinkHost?
    private var options: PipeChild.Options
    private var children: [String: PipeChild] = [:]
    /// Idle children being stopped (no longer in `children`: a new event starts a new child).
    private var retiring: [ObjectIdentifier: PipeChild] = [:]
    private var stopped = false
    private var sweepTimer: TimerID?
    private let idleTimeoutMs: Int

    /// Creates the sink; children start on their first delivery. Their environment is built from
    /// an allow-list (``ChildEnvironment``) plus the sink's `env`; `hiddenEnvironment` names
    /// variables that must not reach children even when allow-listed (the config's `env:` secrets).
    public convenience init(settings: SinkSettings, pipe: PipeSinkSettings, loop: EventLoop, reaper: ChildReaper, logger: Logger,
                            host: SinkHost, hiddenEnvironment: Set<String>) {
        self.init(settings: settings, pipe: pipe, scheduler: loop, launcher: SpawningLauncher(loop: loop, reaper: reaper),
                  logger: logger, host: host, hiddenEnvironment: hiddenEnvironment)
    }

    /// Creates the sink with its timers on `scheduler` and its children from `launcher` (unit
    /// tests: a virtual clock and scripted children).
    public init(settings: SinkSettings, pipe: PipeSinkSettings, scheduler: any Scheduler, launcher: PipeChildLauncher, logger: Logger,
                host: SinkHost, hiddenEnvironment: Set<String>) {
        self.name = settings.name
        self.settings = pipe
        self.loop = scheduler
        self.launcher = launcher
        self.log = logger.with("sink", settings.name)
        self.host = host
        var env = ChildEnvironment.base(hiding: hiddenEnvironment)
        env.append("MOJO_BRIDGE_SINK=\(settings.name)")
        env.append(contentsOf: pipe.environment)
        idleTimeoutMs = pipe.idleTimeout.wholeMilliseconds
        // A relative program path (`./x.sh` beside a config named by a bare file name) is made
        // absolute now, so a `dir` for the child cannot change what it names.
        var argv = pipe.command
        if let first = argv.first, first.contains("/"), !first.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            argv[0] = String(cString: cwd) + "/" + first
            free(cwd)
        }
        options = PipeChild.Options(sink: settings.name, argv: argv, environment: env, directory: pipe.directory,
                                    queueLimit: settings.queue,
                                    stopGraceMs: pipe.stopGrace.wholeMilliseconds)
        options.largePipe = pipe.per == .route
        options.stallMs = pipe.stallTimeout.wholeMilliseconds
        options.onRestart = { [weak self] _ in
            self?.restarts += 1
            self?.onChildRestart?()
        }
    }

    /// Child restarts so far (crashes, failed starts, stalls).
    public private(set) var restarts = 0
    /// Called at every child restart (the bridge counts them in /metrics).
    public var onChildRestart: (() -> Void)?
    /// Children dying young again and again (backing off), for /readyz.
    public var crashLoopingChildren: Int { children.values.filter(\.isCrashLooping).count }

    /// Children are not restarted; `handler` hears the first exit (the `pipe` subcommand).
    public func endWithChild(_ handler: @escaping (ChildExit) -> Void) {
        options.restart = false
        options.onExit = handler
    }

    /// Starts the child now rather than at the first delivery (per-route sinks only).
    /// A per-route child bound to `conversation` takes plain-text lines as messages to it.
    public func startNow(route: String, tenant: String, conversation: String?) {
        guard settings.per == .route, children[route] == nil else { return }
        var opts = options
        opts.environment.append("MOJO_TENANT=\(tenant)")
        if let conversation { opts.environment.append("MOJO_CONVERSATION=\(conversation)") }
        children[route] = PipeChild(key: route, options: opts, tenant: tenant, conversation: conversation, loop: loop, launcher: launcher,
                                    log: log.with("route", route), host: host)
    }

    /// Deliveries held at once: the sink's `queue` setting.
    public var capacity: Int { options.queueLimit }
    /// Payload bytes held at once: a full 1 MiB pipe and one batch waiting next to it. Past that
    /// the events wait in the spool (on disk), not in memory, however slow the child.
    public var capacityBytes: Int { Self.inFlightBytes }
    static let inFlightBytes = 2 << 20
    /// A pipe keeps the order of its lines.
    public var pipelinesConversations: Bool { true }

    public func deliver(_ delivery: Delivery, _ done: @escaping (DeliveryOutcome) -> Void) {
        guard !stopped else { return }
        let perConversation = settings.per == .conversation
        let key = perConversation ? delivery.tenant + "/" + (delivery.conversationId ?? "-") : delivery.route
        if let child = children[key] { return child.enqueue(delivery, done) }
        var opts = options
        if perConversation {
            opts.environment.append("MOJO_TENANT=\(delivery.tenant)")
            if let c = delivery.conversationId { opts.environment.append("MOJO_CONVERSATION=\(c)") }
        }
        let childLog = log.with(perConversation ? "conversation" : "route", perConversation ? (delivery.conversationId ?? "-") : delivery.route)
        let child = PipeChild(key: key, options: opts, tenant: perConversation ? delivery.tenant : nil,
                              conversation: perConversation ? delivery.conversationId : nil,
                              loop: loop, launcher: launcher, log: childLog, host: host)
        children[key] = child
        child.enqueue(delivery, done)
        if perConversation { scheduleSweep() }
    }

    /// Stops per-conversation children idle for `idle_timeout` (checked every tenth of it).
    private func scheduleSweep() {
        guard sweepTimer == nil, idleTimeoutMs > 0, !stopped else { return }
        sweepTimer = loop.schedule(afterMilliseconds: max(1000, idleTimeoutMs / 10)) { [weak self] in
            guard let self else { return }
            self.sweepTimer = nil
            let now = self.loop.now
            for (key, child) in self.children where child.boundConversation != nil && child.isIdle
                && now.nanoseconds &- child.lastActivity.nanoseconds >= UInt64(self.idleTimeoutMs) * 1_000_000 {
                self.children.removeValue(forKey: key)
                let id = ObjectIdentifier(child)
                self.retiring[id] = child
                self.log.info("pipe child idle; stopping it", [("conversation", child.boundConversation ?? ""), ("idle_timeout_ms", String(self.idleTimeoutMs))])
                child.stop { [weak self] in self?.retiring[id] = nil }
            }
            if !self.children.isEmpty { self.scheduleSweep() }
        }
    }

    public func stop(graceMs: Int, _ done: @escaping () -> Void) {
        stopped = true
        if let sweepTimer { loop.cancel(sweepTimer) }
        var remaining = children.count
        if remaining == 0 { return done() }
        for (_, child) in children {
            child.stop {
                remaining -= 1
                if remaining == 0 { done() }
            }
        }
    }

    /// Children running now (for metrics and tests).
    public var childCount: Int { children.count }
}
