import Curl
import Diagnostics
import JSON
import SocketIO
import Transport

/// What a `TenantSession` reports, on the event loop.
public protocol TenantSessionDelegate: AnyObject {
    /// The Socket.IO namespace is joined; `recovered` when the server restored the previous session
    /// (missed events were replayed before this call's events).
    func sessionDidConnect(_ session: TenantSession, recovered: Bool)
    /// A server event: its name and its first argument as raw JSON bytes (empty when it had none).
    /// The bytes are valid only during the call.
    func session(_ session: TenantSession, event name: String, data: UnsafeRawBufferPointer)
    /// The session is down: why (nil when stopped on purpose), and when the next attempt starts
    /// (nil when there will be none).
    func session(_ session: TenantSession, didDisconnect failure: ConnectionFailure?, reconnectInMs: Int?)
    /// A packet was not sent and will not be: it exceeds the server's maxPayload.
    func session(_ session: TenantSession, refused failure: ConnectionFailure)
}

extension TenantSessionDelegate {
    /// By default a refused packet is dropped silently: a delegate should say so.
    public func session(_ session: TenantSession, refused failure: ConnectionFailure) {}
}

/// One authenticated Socket.IO session with MOJO for one tenant: it owns the connection, the token,
/// the rooms it asked for, the emit buffer and reconnection, which never gives up unless told to.
///
/// Runs on one `EventLoop`; every method must be called on that loop.
public final class TenantSession {
    /// How to connect.
    public let configuration: SessionConfiguration
    /// The user this session acts as (the token's `sub`), known after the first token read.
    public private(set) var selfUserId: String?
    /// Whether the namespace is joined now.
    public var isConnected: Bool { if case .connected = sio.phase { true } else { false } }
    /// Failed attempts in a row.
    public internal(set) var failedAttempts = 0
    /// Reconnections after the first connect (for metrics).
    public internal(set) var reconnects = 0
    /// The last failure, for readiness reports.
    public internal(set) var lastFailure: ConnectionFailure?

    weak var delegate: TenantSessionDelegate?
    let loop: EventLoop
    /// The loop in the daemon; a virtual clock in unit tests.
    let timers: any Scheduler
    /// Makes each attempt's transport instead of a WebSocket or polling channel (unit tests).
    let makeTransport: TransportMaker?
    let curl: CurlMulti?
    let log: Logger
    let tokens: TokenProvider
    var sio: SocketIOClientState
    var engine: EngineIOClientState?
    var transport: EngineTransport?
    var probe: WebSocketChannel?
    var backoff: ReconnectBackoff
    var authBackoff: ReconnectBackoff
    var random = FastRandom()
    var livenessTimer: TimerID?
    var sioTimers: [SocketIOTimer: TimerID] = [:]
    var reconnectTimer: TimerID?
    var stopped = true
    var everConnected = false
    var usePollingThisAttempt = false
    var attemptFailure: ConnectionFailure?
    var pendingAcks: [Int: (Result<[UInt8], ConnectionFailure>) -> Void] = [:]
    /// Backpressure (TenantSession+Backpressure.swift): why reading is paused, whether an attempt
    /// waits for the resume, when the pause began, and until when a disconnect is blamed on a
    /// pause long enough for the server to have given up on our pongs (the disconnect's log line).
    var pauseReasons: Set<String> = []
    var attemptDeferred = false
    var pausedAt: Deadline?
    var blamePauseUntil: Deadline?
    /// Times reading was paused, and sessions the server dropped while (or after) we were paused.
    public internal(set) var readPauses = 0
    public internal(set) var droppedWhilePaused = 0

    /// Creates a session; `start()` connects. `curl` is needed for polling (modes `.polling`/`.auto`).
    public convenience init(configuration: SessionConfiguration, loop: EventLoop, curl: CurlMulti?, reaper: ChildReaper?,
                            logger: Logger, delegate: TenantSessionDelegate?) {
        self.init(configuration: configuration, loop: loop, scheduler: loop, transports: nil, curl: curl, reaper: reaper,
                  logger: logger, delegate: delegate)
    }

    /// Makes the Engine.IO transport of one attempt for `session` (which is its delegate);
    /// `polling` when the attempt is to use long-polling.
    public typealias TransportMaker = (_ session: TenantSession, _ polling: Bool) -> EngineTransport

    /// Creates a session whose timers run on `scheduler` and whose transports `transports`
    /// makes (nil: WebSocket and polling channels on `loop`). Unit tests pass a virtual clock and
    /// a scripted transport; `loop` then only serves token commands.
    public init(configuration: SessionConfiguration, loop: EventLoop, scheduler: any Scheduler, transports: TransportMaker?,
                curl: CurlMulti?, reaper: ChildReaper?, logger: Logger, delegate: TenantSessionDelegate?) {
        self.configuration = configuration
        self.loop = loop
        self.timers = scheduler
        self.makeTransport = transports
        self.curl = curl
        self.delegate = delegate
        self.log = configuration.tenant.map { logger.with("tenant", $0) } ?? logger
        self.tokens = TokenProvider(source: configuration.token, loop: loop, reaper: reaper)
        var sioConfig = SocketIOClientState.Configuration(namespace: configuration.namespace, recovery: true)
        sioConfig.bufferLimit = configuration.emitBufferLimit
        sioConfig.bufferPolicy = configuration.emitBufferPolicy
        self.sio = SocketIOClientState(configuration: sioConfig)
        self.backoff = configuration.backoff
        self.authBackoff = configuration.authBackoff
    }

    /// Starts connecting (and reconnecting, until `stop()`).
    public func start() {
        guard stopped else { return }
        stopped = false
        attempt()
    }

    /// Leaves: DISCONNECT, Engine.IO close, transport close. No reconnection afterwards; the
    /// delegate hears `didDisconnect(nil, nil)`.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        if let t = reconnectTimer { timers.cancel(t); reconnectTimer = nil }
        perform(sio.disconnect())
        if let t = transport {
            transport = nil
            if let p = engine?.close() { t.send(p) }
            t.close()
        }
        teardownTransport()
        delegate?.session(self, didDisconnect: nil, reconnectInMs: nil)
    }

    /// Sends a MOJO command: at once when connected, else buffered (bounded; see
    /// `SessionConfiguration.emitBufferPolicy`) and flushed in order after the next connect.
    /// Returns false when the buffer refused it.
    @discardableResult
    public func emit(_ command: MojoCommand) -> Bool {
        emit(command.eventName, args: command.arguments)
    }

    /// Sends a Socket.IO event with raw arguments; `ack` (when given) hears the server's ack arguments or why none came.
    @discardableResult
    public func emit(_ event: String, args: [JSONValue], ack: ((Result<[UInt8], ConnectionFailure>) -> Void)? = nil) -> Bool {
        let result = sio.emit(event, args: args, wantsAck: ack != nil, now: now)
        if result.status == .refused {
            log.warn("emit buffer full; command refused", [("event", event), ("limit", String(configuration.emitBufferLimit))])
            return false
        }
        if let id = result.ackId, let ack { pendingAcks[id] = ack }
        perform(result.actions)
        return true
    }

    /// Emits waiting for a connection.
    public var bufferedEmits: Int { sio.bufferedCount }
    /// Emits dropped because the buffer was full (drop-oldest policy).
    public var droppedEmits: Int { sio.droppedEmits }

    var now: MonotonicInstant { MonotonicInstant(nanoseconds: timers.now.nanoseconds) }

    // MARK: Attempts

    func attempt() {
        guard !stopped else { return }
        reconnectTimer = nil
        // A consumer that cannot take events now could not take the replay either: wait for it.
        if isReadingPaused { attemptDeferred = true; return }
        attemptFailure = nil
        tokens.fetch { [weak self] result in
            guard let self, !self.stopped else { return }
            switch result {
            case .failure(let e):
                self.failed(.token(e))
            case .success(let token):
                self.selfUserId = token.claims.subject
                self.open(token: token)
            }
        }
    }

    func open(token: Token) {
        if isReadingPaused { attemptDeferred = true; return }
        currentToken = token
        let polling = configuration.transport == .polling || configuration.transport == .upgrade || usePollingThisAttempt
        do throws(ConnectionFailure) {
            if let makeTransport {
                engine = EngineIOClientState(transport: polling ? .polling : .websocket, now: now)
                transport = makeTransport(self, polling)
            } else if polling {
                guard let curl else { return failed(.transport(TransportError(kind: .io, peer: configuration.url.hostHeader, message: "polling needs libcurl, which this session was not given"))) }
                engine = EngineIOClientState(transport: .polling, now: now)
                transport = PollingChannel(url: configuration.url, tls: tlsIfSecure, requestTimeoutMs: configuration.connectTimeoutMs,
                                           maxMessageSize: configuration.maxMessageSize, curl: curl, delegate: self)
            } else {
                engine = EngineIOClientState(transport: .websocket, now: now)
                transport = try WebSocketChannel(url: configuration.url, target: configuration.url.target(transport: "websocket"),
                                                 tls: tlsIfSecure, maxMessageSize: configuration.maxMessageSize,
                                                 connectTimeoutMs: configuration.connectTimeoutMs,
                                                 maxPendingWriteBytes: configuration.maxPendingWriteBytes, loop: loop, delegate: self)
            }
        } catch {
            return failed(error)
        }
        armLiveness()
    }

    var tlsIfSecure: TLSConfiguration? { configuration.url.secure ? configuration.tls : nil }

    /// The attempt or the session failed: tear down, report, and schedule the next attempt.
    func failed(_ failure: ConnectionFailure) {
        teardownTransport()
        lastFailure = failure
        failedAttempts += 1
        guard !stopped else { return }
        if configuration.failFast && !everConnected || configuration.maxAttempts.map({ failedAttempts >= $0 }) == true {
            stopped = true
            // A fail-fast caller reports the failure itself, in one line.
            log.log(configuration.failFast ? .debug : .error, "giving up", [("reason", failure.description), ("attempts", String(failedAttempts))])
            delegate?.session(self, didDisconnect: failure, reconnectInMs: nil)
            return
        }
        let delay = failure.isAuthProblem ? authBackoff.nextDelay(random: random.unit()) : backoff.nextDelay(random: random.unit())
        if everConnected && disconnectFollowsPause {
            // One line says it all: why the server dropped us, and that recovery will replay.
            blamePauseUntil = nil
            droppedWhilePaused += 1
            log.warn("disconnected after reading was paused for a slow consumer; reconnecting with session recovery",
                     [("reason", failure.description), ("retry_in_ms", String(delay)), ("attempt", String(failedAttempts))]
                        + (failure.hint.map { [("hint", $0)] } ?? []))
        } else {
            log.warn(everConnected ? "disconnected; reconnecting" : "connection failed; retrying",
                     [("reason", failure.description), ("retry_in_ms", String(delay)), ("attempt", String(failedAttempts))]
                        + (failure.hint.map { [("hint", $0)] } ?? []))
        }
        delegate?.session(self, didDisconnect: failure, reconnectInMs: delay)
        reconnectTimer = timers.schedule(afterMilliseconds: delay) { [weak self] in self?.attempt() }
    }

    func teardownTransport() {
        if let t = livenessTimer { timers.cancel(t); livenessTimer = nil }
        for (_, t) in sioTimers { timers.cancel(t) }
        sioTimers.removeAll()
        transport?.abort()
        transport = nil
        probe?.abort()
        probe = nil
        engine = nil
        currentToken = nil
    }

    var currentToken: Token?
}
