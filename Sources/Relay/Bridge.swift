import Curl
import Diagnostics
import Mojo
import Rules
import SocketIO
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's core: one `TenantSession` per configured tenant, the sinks, and the routes
/// between them in both directions. Runs on one event loop.
///
/// One home per concern: this file starts and stops the whole and the sinks;
/// `Bridge+Sessions.swift` the tenant sessions and their connection reports;
/// `Bridge+Routing.swift` events from MOJO to sinks; `Bridge+Commands.swift` the reply pipeline
/// (correlation, tenant choice, authorisation by routes) and `Bridge+Replies.swift` its durable
/// side (reply spool, resend after reconnects, the server's answers); `Bridge+Reload.swift`
/// reload; `Bridge+Backpressure.swift` full spools pausing the sessions; `Bridge+Metrics.swift`.
public final class Bridge: TenantSessionDelegate, SinkHost {
    /// The configuration in force.
    public internal(set) var config: BridgeConfig {
        didSet { routeTable = nil }
    }
    let loop: EventLoop
    /// Timers and the clock: the loop in the daemon, a virtual clock in unit tests.
    let timers: any Scheduler
    /// Makes each tenant's session (unit tests: sessions on a scripted transport); nil: real ones.
    let makeSession: SessionMaker?
    let reaper: ChildReaper?
    let curl: CurlMulti?
    let log: Logger
    let makeSink: SinkFactory
    var sessions: [String: TenantSession] = [:]
    var sinks: [String: SinkRunner] = [:] {
        didSet { routeTable = nil }
    }
    /// Per route (by index in `config.routes`): the running sinks it feeds, resolved once per
    /// config and set of sinks rather than per event.
    var routeTable: [[RouteTarget]]?
    var retiring: [ObjectIdentifier: SinkRunner] = [:]
    /// Sinks being restarted by a reload: the events routed to them until the new runner starts.
    var handover: [String: Handover] = [:]
    /// Whether sink queues live on disk (`run`) or in memory only (`pipe`).
    let durable: Bool
    var settledWaiters: [() -> Void] = []
    var replySpools: [String: SinkSpool] = [:]
    var spoolLock: SpoolLock?
    var replyWaiters: [String: (ReplyResult) -> Void] = [:]
    /// Tenants whose session is connected now, and the reply ids unanswered when a connection
    /// dropped (sent again at the next connect).
    var connectedTenants: Set<String> = []
    var unansweredAtDisconnect: [String: [String]] = [:]
    /// Replies forgotten unanswered since the last warn line about them, per tenant (one line per
    /// 10 s at most), and when that line was written.
    var unansweredUnlogged: [String: Int] = [:]
    var unansweredLoggedAt: Deadline?
    /// Prometheus metrics (`/metrics`).
    public let metrics = MetricsRegistry()
    /// The live view's state (Bridge+Status.swift).
    public let live = LiveState()
    /// `mojo_bridge_events_received_total` series by tenant, then by event name.
    var eventCounters: [String: [String: Counter]] = [:]
    var origins = OriginTracker()
    /// Events recently handed to sinks, for replies naming them (`inReplyTo`).
    var recent = RecentEvents()
    var typing = TypingLimiter()
    var ids = EventIDGenerator()
    var stopping = false
    /// Whether the initial load was recorded (the reload metrics exist from the start).
    var initialLoadRecorded = false
    /// Sinks with `when_full = block` whose spool is full: the sessions are paused for them.
    var blockedSinks: Set<String> = []
    /// Sink replies may trigger at most this many further hops (a bot answering a bot answering a
    /// bot...): events with more are not delivered. Two sinks can never ping-pong forever.
    public var maxHops = 2
    /// Applied to every configuration `reload` receives before it is used (`run --shard`: only
    /// the shard's tenants and its own spool), whichever path the reload came by.
    public var configFilter: ((BridgeConfig) -> BridgeConfig)?
    /// Makes the session of one tenant, with the bridge as its delegate.
    public typealias SessionMaker = (_ configuration: SessionConfiguration, _ bridge: Bridge) -> TenantSession

    /// Creates the bridge; `start()` opens the sessions and the sinks. Unit tests give a
    /// `scheduler` (a virtual clock) and a `sessionMaker` (sessions on a scripted transport).
    public init(config: BridgeConfig, loop: EventLoop, reaper: ChildReaper?, curl: CurlMulti?, logger: Logger,
                durable: Bool = true, scheduler: (any Scheduler)? = nil, sessionMaker: SessionMaker? = nil,
                sinkFactory: @escaping SinkFactory) {
        self.config = config
        self.durable = durable
        self.loop = loop
        self.timers = scheduler ?? loop
        self.makeSession = sessionMaker
        self.reaper = reaper
        self.curl = curl
        self.log = logger
        self.makeSink = sinkFactory
    }

    /// Starts every sink (opening its spool: a spool that cannot be opened is an error), then
    /// every tenant session.
    public func start() throws(BridgeStartError) {
        if durable {
            switch SpoolLock.acquire(directory: config.spool.directory) {
            case .success(let lock): spoolLock = lock
            case .failure(let e):
                throw BridgeStartError(sink: "*", reason: e.errno == EWOULDBLOCK
                    ? "the spool \(config.spool.directory) is in use by another mojo-bridge"
                    : "cannot lock the spool \(config.spool.directory): \(e.description)")
            }
        }
        for settings in config.sinks {
            if let error = startSink(settings) { throw BridgeStartError(sink: settings.name, reason: error) }
        }
        for tenant in config.tenants { startSession(tenant) }
        if durable { scheduleSyncTick() }
        recordReload(success: true)
        log.info("bridge started", [("tenants", String(config.tenants.count)), ("sinks", String(sinks.count)),
                                    ("routes", String(config.routes.count))])
    }

    /// Stops taking work, stops the sinks (each finishing or keeping what is in flight within
    /// `graceMs`), then disconnects every session; `done` runs once, on the loop.
    public func shutdown(graceMs: Int, _ done: @escaping () -> Void) {
        guard !stopping else { return }
        stopping = true
        log.info("shutting down", [("grace_ms", String(graceMs))])
        var remaining = sinks.count
        let finish = { [self] in
            for (_, s) in sessions { s.stop() }
            sessions.removeAll()
            log.info("stopped")
            done()
        }
        if remaining == 0 { return finish() }
        let all = sinks
        sinks.removeAll()
        for (_, sink) in all {
            retire(sink, graceMs: graceMs) {
                remaining -= 1
                if remaining == 0 { finish() }
            }
        }
    }

    /// Every second: spool records of a quiet moment reach the disk on the `spool.fsync` schedule.
    func scheduleSyncTick() {
        timers.schedule(afterMilliseconds: 1000) { [weak self] in
            guard let self, !self.stopping else { return }
            for runner in self.sinks.values { runner.syncTick() }
            self.liveTick()
            for spool in self.replySpools.values { spool.syncIfDirty(nowMs: Timestamp.nowUnixMilliseconds()) }
            self.scheduleSyncTick()
        }
    }

    /// Stops a sink, keeping it alive until it has finished stopping (its children exiting).
    func retire(_ sink: SinkRunner, graceMs: Int, _ done: @escaping () -> Void) {
        let id = ObjectIdentifier(sink)
        retiring[id] = sink
        sink.stop(graceMs: graceMs) { [weak self] in
            self?.retiring[id] = nil
            done()
        }
    }

    /// Calls `done` once every session is connected with nothing buffered and every message a sink
    /// sent has been answered by the server (`message:sent` or `message:error`), or after
    /// `timeoutMs`: lets `pipe` end only after its child's last words reached MOJO.
    public func whenSettled(timeoutMs: Int, _ done: @escaping () -> Void) {
        settledWaiters.append(done)
        timers.schedule(afterMilliseconds: timeoutMs) { [weak self] in self?.fireSettled(force: true) }
        fireSettled(force: false)
    }

    func fireSettled(force: Bool) {
        guard !settledWaiters.isEmpty else { return }
        let settled = sessions.values.allSatisfy { $0.isConnected && $0.bufferedEmits == 0 } && origins.count == 0
        guard settled || force else { return }
        let waiters = settledWaiters
        settledWaiters.removeAll()
        for w in waiters { w() }
    }

    /// Revives the dead letters of `sink` (all when `ids` is empty); nil when there is no such sink.
    public func retryDeadLetters(sink: String, ids: [String]) -> Int? {
        sinks[sink]?.retryDead(ids)
    }

    /// Whether every session is connected (readiness).
    public var allConnected: Bool { !sessions.isEmpty && sessions.values.allSatisfy(\.isConnected) }

    /// The sessions by tenant id (read-only use: metrics, readiness).
    public var tenantSessions: [String: TenantSession] { sessions }

    /// Starts one sink behind its runner and spool; returns why it could not start.
    @discardableResult
    func startSink(_ settings: SinkSettings, retryWaitingNow: Bool = false) -> String? {
        let made: Sink?
        do { made = try makeSink(settings, self) } catch {
            log.error("sink not started", [("sink", settings.name), ("reason", error.reason)])
            return error.reason
        }
        guard let sink = made else {
            // Never dropped silently: the sink's events would vanish while /readyz said 200.
            let reason = "no factory registered for kind \(settings.kind.name) in this build"
            log.error("sink not started", [("sink", settings.name), ("reason", reason)])
            return reason
        }
        let spool: SinkSpool
        if durable {
            do throws(IOError) {
                spool = try SinkSpool(directory: config.spool.directory, sink: settings.name, maxBytes: spoolLimit(for: settings),
                                      segmentBytes: Self.segmentBytes(maxSize: config.spool.maxSize),
                                      syncIntervalMs: config.spool.fsync.wholeMilliseconds,
                                      log: log)
            } catch {
                log.error("cannot open the sink's spool", [("sink", settings.name), ("dir", config.spool.directory), ("error", error.description)])
                return "cannot open spool in \(config.spool.directory): \(error.description)"
            }
        } else {
            spool = SinkSpool(memoryFor: settings.name, maxBytes: spoolLimit(for: settings), log: log)
        }
        if retryWaitingNow {
            // Restarted by a reload (a new `retry`, a 410 lifted...): events waiting for a later
            // attempt are tried now, then follow the schedule in force.
            let now = Timestamp.nowUnixMilliseconds()
            for seq in spool.orderedSeqs {
                guard let item = spool.item(seq), item.nextAtMs > now else { continue }
                try? spool.scheduleRetry(seq, attempts: item.attempts, nextAtMs: now, reason: "retried at once after a reload", nowMs: now)
            }
        }
        let runner = SinkRunner(settings: settings, sink: sink, spool: spool, loop: timers, log: log,
                                nowMs: { Timestamp.nowUnixMilliseconds() })
        instrument(runner)
        sinks[settings.name] = runner
        watchSpool(runner, blocks: settings.whenFull == .block)
        return nil
    }
}

/// A sink whose spool could not be opened: the daemon does not start without its durable queues.
public struct BridgeStartError: Error, CustomStringConvertible {
    public var sink: String
    public var reason: String
    public var description: String { sink == "*" ? reason : "sink \(sink): \(reason)" }
}

