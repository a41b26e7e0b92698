import Diagnostics
import Mojo
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// One supervised child process of a pipe sink: events go down its stdin one line each, its
/// stdout lines come back as commands, its stderr goes to the log. A child that exits is
/// restarted with backoff; deliveries wait in a bounded queue meanwhile.
final class PipeChild {
    struct Options {
        var sink: String
        var argv: [String]
        var environment: [String]
        var directory: String?
        var queueLimit: Int
        var stopGraceMs: Int
        var maxLineBytes = 1 << 20
        /// A child that lives shorter than this counts as a crash: the restart delay grows.
        var minUptimeMs = 5_000
        /// Restart delays: `backoffBaseMs` doubling per consecutive crash, capped at
        /// `backoffMaxMs`, each jittered by ±25%; back to the base once a child lived `minUptimeMs`.
        var backoffBaseMs = 200
        var backoffMaxMs = 60_000
        /// A child with events unread that reads nothing for this long is restarted; 0: never.
        var stallMs = 0
        /// Called at every restart attempt (metrics) with whether the child is crash-looping.
        var onRestart: ((_ crashLooping: Bool) -> Void)?
        /// Restart a child that exits (a daemon's sink); false for `mojo-bridge pipe`, which ends with its child.
        var restart = true
        /// Called when a child exits and is not restarted.
        var onExit: ((ChildExit) -> Void)?
        /// Ask for a 1 MiB stdin pipe (bursts go down in few writes). Only for the few children
        /// of per-route sinks: the kernel counts pipe capacity per user, and past
        /// /proc/sys/fs/pipe-user-pages-soft (64 MiB) gives every new pipe of that user one page,
        /// which many per-conversation children with big pipes would soon cause.
        var largePipe = false
    }

    private enum Phase { case running, waitingRestart, stopping, stopped }

    let key: String
    let options: Options
    /// The tenant and conversation this child is bound to (per-conversation children).
    let boundTenant: String?
    let boundConversation: String?
    private let loop: any Scheduler
    private let launcher: PipeChildLauncher
    private let log: Logger
    private weak var host: SinkHost?
    private var phase = Phase.stopped
    private var process: PipeChildProcess?
    typealias Done = (DeliveryOutcome) -> Void
    private var queue = FIFO<(delivery: Delivery, done: Done)>()
    /// Deliveries written to the pipe that the child may not have read yet, with their sizes
    /// (newline included), oldest first. A delivery counts as delivered once the child has read it.
    private var unread = FIFO<(delivery: Delivery, bytes: Int, done: Done)>()
    private var unreadBytes = 0
    /// The lines of one `write(2)`, reused.
    private var batch: [UInt8] = []
    private var pumpScheduled = false
    /// The child's stdin pipe capacity (64 KiB, or 1 MiB with `largePipe`).
    private var pipeCapacity = 65_536
    private var trimTimer: TimerID?
    private var startedAt = Deadline(nanoseconds: 0)
    private var quickExits = 0
    /// When the child last read something (or started): the stall clock.
    private var lastProgress = Deadline(nanoseconds: 0)
    /// Set when the daemon ended the child itself (stalled, stdin closed): said once, at warn.
    private var endedBecause: String?
    private var random = SystemRandomNumberGenerator()
    /// Whether the child keeps dying young (for /readyz and metrics).
    var isCrashLooping: Bool { quickExits >= 3 }
    private var restartTimer: TimerID?
    private var killTimer: TimerID?
    private var onStopped: (() -> Void)?
    /// What the child has read: the context of its replies (see `ReadTracker`).
    private var reads = ReadTracker()
    /// Lines written to the child.
    private(set) var written = 0
    /// Output lines that were not valid commands.
    private(set) var badLines = 0

    init(key: String, options: Options, tenant: String?, conversation: String?, loop: any Scheduler, launcher: PipeChildLauncher,
         log: Logger, host: SinkHost?) {
        self.key = key
        self.options = options
        self.boundTenant = tenant
        self.boundConversation = conversation
        self.loop = loop
        self.launcher = launcher
        self.log = log
        self.host = host
        spawn()
    }

    var queued: Int { queue.count }
    /// When the child last had something to do (a delivery, an output line).
    private(set) var lastActivity = Deadline(nanoseconds: 0)
    /// Whether it has nothing queued, nothing unread and is running (so it may be stopped as idle).
    var isIdle: Bool { phase == .running && queue.isEmpty && unread.isEmpty }

    /// Queues one delivery (the runner in front bounds how many) and writes what the child can
    /// take; `done(.delivered)` once the child has read the line.
    func enqueue(_ d: Delivery, _ done: @escaping Done) {
        guard phase != .stopping && phase != .stopped else { return }
        lastActivity = loop.now
        queue.append((d, done))
        // The lines of one loop turn go down the pipe in one write, confirmed by one FIONREAD.
        guard !pumpScheduled else { return }
        pumpScheduled = true
        loop.atEndOfTurn { [weak self] in
            self?.pumpScheduled = false
            self?.pump()
        }
    }

    /// Writes queued lines while the pipe takes them (a slow child slows only itself), as few
    /// `write(2)` calls as the pipe allows. A batch goes to the writer only when it holds nothing:
    /// what the pipe does not take waits there (less than one batch, next to the full pipe), the
    /// rest stays in the queue, and the writer's drain brings the next batch.
    private func pump() {
        guard phase == .running, let child = process else { return }
        while child.pendingBytes == 0 && !child.hasFailed && !queue.isEmpty {
            batch.removeAll(keepingCapacity: true)
            while batch.count < pipeCapacity, let (d, done) = queue.popFirst() {
                batch.append(contentsOf: d.payload)
                batch.append(0x0A)
                written += 1
                unread.append((d, d.payload.count + 1, done))
                unreadBytes += d.payload.count + 1
            }
            child.write(batch)
        }
        // Kept for the next turn only when small: a sink may have many children.
        if batch.capacity > 65_536 { batch = [] }
        trimRead()
        watchReading()
    }

    /// A pipe says nothing when its reader consumes bytes: while lines wait unread, look again
    /// shortly (20 ms, backing off to 500 ms while nothing moves), so deliveries are confirmed
    /// even when no new event comes.
    private func watchReading(delayMs: Int = 20) {
        guard trimTimer == nil, !unread.isEmpty, phase == .running else { return }
        trimTimer = loop.schedule(afterMilliseconds: delayMs) { [weak self] in
            guard let self else { return }
            self.trimTimer = nil
            let before = self.unread.count
            self.trimRead()
            if self.unread.count < before {
                self.lastProgress = self.loop.now
            } else if self.checkStuck() {
                return
            }
            self.watchReading(delayMs: self.unread.count < before ? 20 : min(500, delayMs * 2))
        }
    }

    /// A child that cannot or will not read: its stdin is closed (it can never read again), or it
    /// read nothing for `stallMs` with events waiting. Reported at warn and restarted (its unread
    /// events go to the next child). Returns true when it is being ended.
    private func checkStuck() -> Bool {
        guard let process, phase == .running, endedBecause == nil else { return false }
        var reason: String?
        if !process.hasStdin {
            reason = "pipe child closed its stdin; restarting it"
        } else if options.stallMs > 0,
                  Int((loop.now.nanoseconds &- lastProgress.nanoseconds) / 1_000_000) >= options.stallMs {
            reason = "pipe child read nothing for stall_timeout; restarting it"
        }
        guard let reason else { return false }
        endedBecause = reason
        log.warn(reason, [("pid", String(process.pid)), ("unread", String(unread.count)), ("stall_timeout_ms", String(options.stallMs))])
        process.signal(SIGTERM)
        let pid = process.pid
        killTimer = loop.schedule(afterMilliseconds: options.stopGraceMs) { [weak self] in
            guard let self, let p = self.process, p.pid == pid else { return }
            p.signal(SIGKILL)
        }
        return true
    }

    /// Forgets the deliveries the child has read: those before the bytes still in the pipe.
    private func trimRead() {
        guard let process else { return }
        let pending = process.unreadStdinBytes + process.pendingBytes
        var consumed: [Done] = []
        while let first = unread.first, unreadBytes - first.bytes >= pending {
            unreadBytes -= first.bytes
            consumed.append(first.done)
            reads.read(first.delivery)
            _ = unread.popFirst()
        }
        for done in consumed { done(.delivered) }
    }

    /// The child is gone: deliveries it did not read (still in the pipe, or not yet written)
    /// go back to the head of the queue for the next child. A line it had only begun to read is
    /// delivered again (at least once).
    private func takeBackUnread(from child: PipeChildProcess) {
        let pending = child.takeBackUnreadStdin() + child.pendingBytes
        var covered = 0
        var back: [(delivery: Delivery, done: Done)] = []
        while covered < pending, let last = unread.popLast() {
            covered += last.bytes
            back.append((last.delivery, last.done))
        }
        // What is left was read before the child died.
        let read = unread.elements.map(\.done)
        for entry in unread.elements { reads.read(entry.delivery) }
        unread.removeAll()
        unreadBytes = 0
        for done in read { done(.delivered) }
        guard !back.isEmpty else { return }
        queue.prepend(back.reversed())
        log.info("events the child did not read are queued again", [("count", String(back.count))])
    }

    /// Forgets deliveries the child will never read (stopping): they are not reported, so the
    /// spool keeps them.
    private func abandonUnread() {
        if !unread.isEmpty { log.info("events the child did not read stay spooled", [("count", String(unread.count + queued))]) }
        unread.removeAll()
        unreadBytes = 0
    }

    private func spawn() {
        let child: PipeChildProcess
        do {
            child = try launcher.launch(argv: options.argv, environment: options.environment, directory: options.directory,
                                        largePipe: options.largePipe, maxLineBytes: options.maxLineBytes)
        } catch {
            quickExits += 1
            let delay = nextDelay()
            log.error("cannot start pipe child", [("command", options.argv.first ?? ""), ("error", error.description),
                                                  ("attempt", String(quickExits)), ("restart_in_ms", String(delay))])
            return scheduleRestart(delay)
        }
        process = child
        endedBecause = nil
        pipeCapacity = child.pipeCapacity
        startedAt = loop.now
        lastActivity = loop.now
        lastProgress = loop.now
        phase = .running
        log.info("pipe child started", [("pid", String(child.pid)), ("command", options.argv.first ?? "")])
        let pid = child.pid
        var events = PipeChildEvents(drained: { [weak self] in self?.pump() },
                                     stdout: { [weak self] in self?.output($0) },
                                     stderr: { [weak self] input in
            guard let self else { return }
            switch input {
            case .line(let bytes): self.log.info("child stderr", [("line", String(decoding: bytes, as: UTF8.self))])
            case .oversized(let n): self.log.info("child stderr: long line skipped", [("bytes", String(n))])
            }
        }, exited: { [weak self] status in self?.exited(pid: pid, status) })
        // EPIPE: the child closed its stdin or died; its exit is reported by the reaper.
        events.writeFailed = { [weak self] e in self?.log.debug("pipe child stdin closed", [("error", e)]) }
        child.begin(events)
        pump()
    }

    /// One line the child printed: a command (JSON) or plain text for the bound conversation.
    private func output(_ input: LineReader.Input) {
        switch input {
        case .oversized(let n):
            badLines += 1
            log.warn("line from child dropped: too long", [("bytes", String(n)), ("limit", String(options.maxLineBytes))])
        case .line(let raw):
            lastActivity = loop.now
            trimRead()   // an answer means the child has read something
            var bytes = Array(raw)
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            var answered: AnsweredEvent?
            let implicit = reads.replyContext()
            do {
                var inbound = try Envelope.parseCommand(bytes, plainText: true) { inReplyTo in
                    if let inReplyTo {
                        answered = self.find(inReplyTo)
                        return answered?.conversationId
                    }
                    return self.boundConversation ?? implicit.read?.conversationId
                }
                if let r = inbound.inReplyTo, answered == nil { answered = find(r) }
                let context: ReplyContext
                if let answered {
                    context = ReplyContext(tenant: answered.tenant, conversationId: answered.conversationId,
                                           hops: max(answered.hops, inbound.hops ?? 0), answering: answered.id)
                } else if let boundConversation {
                    context = ReplyContext(tenant: boundTenant, conversationId: boundConversation, hops: implicit.hops,
                                           answering: implicit.read?.id)
                } else {
                    // A per-route child: the last line it has read, a guess used only for a
                    // command without a written conversation, and never when ambiguous.
                    context = ReplyContext(tenant: implicit.read?.tenant ?? boundTenant, conversationId: implicit.read?.conversationId,
                                           hops: implicit.hops, answering: implicit.read?.id, certain: false,
                                           ambiguity: implicit.ambiguity)
                }
                inbound.hops = nil
                host?.sink(options.sink, sent: inbound, context: context)
            } catch {
                badLines += 1
                log.warn("line from child dropped", [("reason", error.description),
                                                     ("line", String(decoding: bytes.prefix(200), as: UTF8.self))])
            }
        }
    }

    /// A delivery this child was given, by event id (for `inReplyTo`): read recently, still
    /// unread, else whatever the bridge remembers.
    private func find(_ id: String) -> AnsweredEvent? {
        if let e = reads.find(id) { return e }
        if let d = unread.elements.first(where: { $0.delivery.eventId == id })?.delivery {
            return AnsweredEvent(id: d.eventId, tenant: d.tenant, conversationId: d.conversationId ?? boundConversation, hops: d.hops)
        }
        return host?.recentEvent(id)
    }

    private func exited(pid: pid_t, _ status: ChildExit) {
        guard process?.pid == pid else { return }
        // Its last lines are in the pipe already: take them before anything else happens.
        process?.drainOutput()
        if let child = process {
            if phase == .stopping {
                // Read lines are delivered; unread ones stay spooled for the next run.
                trimRead()
                abandonUnread()
            } else {
                takeBackUnread(from: child)
            }
        }
        process?.close()
        process = nil
        if phase == .stopping {
            if let killTimer { loop.cancel(killTimer) }
            log.info("pipe child stopped", [("status", status.description)])
            phase = .stopped
            onStopped?()
            onStopped = nil
            return
        }
        guard options.restart else {
            log.info("pipe child exited", [("status", status.description)])
            phase = .stopped
            options.onExit?(status)
            return
        }
        let uptime = Int((loop.now.nanoseconds &- startedAt.nanoseconds) / 1_000_000)
        quickExits = uptime < options.minUptimeMs ? quickExits + 1 : 0
        if let killTimer { loop.cancel(killTimer) }
        let delay = nextDelay()
        // One line per attempt.
        if isCrashLooping {
            log.error("pipe child is crash-looping", [("status", status.description), ("quick_exits", String(quickExits)),
                                                      ("queued", String(queued)), ("restart_in_ms", String(delay))])
        } else {
            log.warn("pipe child exited; restarting", [("status", status.description), ("queued", String(queued)),
                                                       ("restart_in_ms", String(delay))])
        }
        scheduleRestart(delay)
    }

    /// The delay before the next start: the base doubling per consecutive crash, capped, ±25%.
    private func nextDelay() -> Int {
        let steps = min(max(quickExits - 1, 0), 20)
        let base = min(options.backoffMaxMs, options.backoffBaseMs << steps)
        let spread = base / 4
        return max(1, base - spread + (spread > 0 ? Int(random.next() % UInt64(2 * spread + 1)) : 0))
    }

    private func scheduleRestart(_ delay: Int) {
        phase = .waitingRestart
        options.onRestart?(isCrashLooping)
        restartTimer = loop.schedule(afterMilliseconds: delay) { [weak self] in
            guard let self, self.phase == .waitingRestart else { return }
            self.spawn()
        }
    }

    /// Stops the child: EOF on stdin and SIGTERM, SIGKILL after the grace period; `done` once it
    /// has exited. What it has read by then is delivered; the rest stays spooled.
    func stop(_ done: @escaping () -> Void) {
        if let restartTimer { loop.cancel(restartTimer) }
        guard let process, phase == .running else {
            phase = .stopped
            return done()
        }
        phase = .stopping
        onStopped = done
        trimRead()
        // Bytes still in our write buffer never reach the pipe: their deliveries stay spooled.
        var notWritten = process.pendingBytes
        while notWritten > 0, let last = unread.popLast() {
            notWritten -= last.bytes
            unreadBytes -= last.bytes
        }
        process.closeStdin()
        process.signal(SIGTERM)
        killTimer = loop.schedule(afterMilliseconds: options.stopGraceMs) { [weak self] in
            guard let self, self.phase == .stopping, let p = self.process else { return }
            self.log.warn("pipe child ignored SIGTERM; killing it", [("pid", String(p.pid)), ("grace_ms", String(self.options.stopGraceMs))])
            p.signal(SIGKILL)
        }
    }
}
