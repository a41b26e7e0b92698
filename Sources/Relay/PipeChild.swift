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
        /// A child that lives shorter than this counts as a crash for the crash-loop report.
        var minUptimeMs = 5_000
        /// Restart a child that exits (a daemon's sink); false for `mojo-bridge pipe`, which ends with its child.
        var restart = true
        /// Called when a child exits and is not restarted.
        var onExit: ((ChildExit) -> Void)?
        /// Called each time an exited child is scheduled for a restart (metrics).
        var onRestart: (() -> Void)?
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
    private let loop: EventLoop
    private let reaper: ChildReaper
    private let log: Logger
    private weak var host: SinkHost?
    private var phase = Phase.stopped
    private var process: ChildProcess?
    private var stdin: FDWriter?
    private var stdout: LineReader?
    private var stderr: LineReader?
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
    private var restartTimer: TimerID?
    private var killTimer: TimerID?
    private var onStopped: (() -> Void)?
    private var last: (tenant: String?, conversation: String?, hops: Int) = (nil, nil, 0)
    /// Lines written to the child.
    private(set) var written = 0
    /// Output lines that were not valid commands.
    private(set) var badLines = 0

    init(key: String, options: Options, tenant: String?, conversation: String?, loop: EventLoop, reaper: ChildReaper,
         log: Logger, host: SinkHost?) {
        self.key = key
        self.options = options
        self.boundTenant = tenant
        self.boundConversation = conversation
        self.loop = loop
        self.reaper = reaper
        self.log = log
        self.host = host
        last = (tenant, conversation, 0)
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
    /// `write(2)` calls as the pipe allows.
    private func pump() {
        guard phase == .running, let stdin else { return }
        while stdin.pendingBytes < pipeCapacity && !stdin.hasFailed && !queue.isEmpty {
            batch.removeAll(keepingCapacity: true)
            while batch.count < pipeCapacity, let (d, done) = queue.popFirst() {
                batch.append(contentsOf: d.payload)
                batch.append(0x0A)
                written += 1
                unread.append((d, d.payload.count + 1, done))
                unreadBytes += d.payload.count + 1
                last = (d.tenant, d.conversationId ?? boundConversation, d.hops)
            }
            stdin.write(batch)
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
            self.watchReading(delayMs: self.unread.count < before ? 20 : min(500, delayMs * 2))
        }
    }

    /// Forgets the deliveries the child has read: those before the bytes still in the pipe.
    private func trimRead() {
        guard let process else { return }
        let pending = process.unreadStdinBytes + (stdin?.pendingBytes ?? 0)
        var consumed: [Done] = []
        while let first = unread.first, unreadBytes - first.bytes >= pending {
            unreadBytes -= first.bytes
            consumed.append(first.done)
            _ = unread.popFirst()
        }
        for done in consumed { done(.delivered) }
    }

    /// The child is gone: deliveries it did not read (still in the pipe, or not yet written)
    /// go back to the head of the queue for the next child. A line it had only begun to read is
    /// delivered again (at least once).
    private func takeBackUnread(from child: ChildProcess) {
        let pending = child.takeBackUnreadStdin().count + (stdin?.pendingBytes ?? 0)
        var covered = 0
        var back: [(delivery: Delivery, done: Done)] = []
        while covered < pending, let last = unread.popLast() {
            covered += last.bytes
            back.append((last.delivery, last.done))
        }
        // What is left was read before the child died.
        let read = unread.elements.map(\.done)
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
        let child: ChildProcess
        do {
            child = try ChildProcess(argv: options.argv, environment: options.environment, directory: options.directory,
                                     pipes: [.stdin, .stdout, .stderr, .stdinReadBack])
        } catch {
            log.error("cannot start pipe child", [("command", options.argv.first ?? ""), ("error", error.description)])
            return scheduleRestart()
        }
        process = child
        pipeCapacity = options.largePipe ? child.enlargeStdinPipe(to: 1 << 20) : 65_536
        startedAt = loop.now
        lastActivity = loop.now
        phase = .running
        let writer = FDWriter(fd: child.stdinFD, loop: loop)
        writer.onDrain = { [weak self] in self?.pump() }
        writer.onError = { [weak self] e in
            // EPIPE: the child closed its stdin or died; its exit is reported by the reaper.
            self?.log.debug("pipe child stdin closed", [("error", e.description)])
        }
        stdin = writer
        stdout = LineReader(fd: child.stdoutFD, maxLineBytes: options.maxLineBytes, loop: loop, onInput: { [weak self] in self?.output($0) }, onEnd: { _ in })
        stderr = LineReader(fd: child.stderrFD, maxLineBytes: 16_384, loop: loop, onInput: { [weak self] input in
            guard let self else { return }
            switch input {
            case .line(let bytes): self.log.info("child stderr", [("line", String(decoding: bytes, as: UTF8.self))])
            case .oversized(let n): self.log.info("child stderr: long line skipped", [("bytes", String(n))])
            }
        }, onEnd: { _ in })
        log.info("pipe child started", [("pid", String(child.pid)), ("command", options.argv.first ?? "")])
        let pid = child.pid
        reaper.onExit(of: pid) { [weak self] status in self?.exited(pid: pid, status) }
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
            do {
                let inbound = try Envelope.parseCommand(bytes, defaultConversation: boundConversation ?? last.conversation, plainText: true)
                host?.sink(options.sink, sent: inbound, context: ReplyContext(tenant: boundTenant ?? last.tenant,
                                                                              conversationId: boundConversation ?? last.conversation, hops: last.hops))
            } catch {
                badLines += 1
                log.warn("line from child dropped", [("reason", error.description),
                                                     ("line", String(decoding: bytes.prefix(200), as: UTF8.self))])
            }
        }
    }

    private func exited(pid: pid_t, _ status: ChildExit) {
        guard process?.pid == pid else { return }
        // Its last lines are in the pipe already: take them before anything else happens.
        stdout?.drainNow()
        if let child = process {
            if phase == .stopping {
                // Read lines are delivered; unread ones stay spooled for the next run.
                trimRead()
                abandonUnread()
            } else {
                takeBackUnread(from: child)
            }
        }
        stdin?.cancel()
        stdin = nil
        stdout?.cancel(); stdout = nil
        stderr?.cancel(); stderr = nil
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
        if quickExits >= 3 {
            log.error("pipe child is crash-looping", [("status", status.description), ("quick_exits", String(quickExits)), ("queued", String(queued))])
        } else {
            log.warn("pipe child exited; restarting", [("status", status.description), ("queued", String(queued))])
        }
        options.onRestart?()
        scheduleRestart()
    }

    private func scheduleRestart() {
        phase = .waitingRestart
        // 0.1 s, 0.2 s, 0.4 s ... capped at 30 s while the child keeps dying young.
        let delay = min(30_000, 100 << min(quickExits, 9))
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
        var notWritten = stdin?.pendingBytes ?? 0
        while notWritten > 0, let last = unread.popLast() {
            notWritten -= last.bytes
            unreadBytes -= last.bytes
        }
        stdin?.cancel()
        stdin = nil
        process.closeStdin()
        process.signal(SIGTERM)
        killTimer = loop.schedule(afterMilliseconds: options.stopGraceMs) { [weak self] in
            guard let self, self.phase == .stopping, let p = self.process else { return }
            self.log.warn("pipe child ignored SIGTERM; killing it", [("pid", String(p.pid)), ("grace_ms", String(self.options.stopGraceMs))])
            p.signal(SIGKILL)
        }
    }
}
