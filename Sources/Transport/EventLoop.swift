import COpenSSL
import Glibc

/// A single-threaded epoll event loop: file-descriptor readiness, timers, signals and
/// cross-thread wake-ups, all delivered on the thread that calls `run()`.
///
/// Everything except `handle` is confined to the loop thread: create the loop, register work
/// and call `run()` on one thread, and touch it from other threads only through
/// `handle.execute`. Callbacks run one at a time and may freely schedule, cancel, watch and stop.
public final class EventLoop {
    /// A registered descriptor: its handler and its current epoll interest.
    final class Registration {
        let fd: Int32
        let handler: (_ readable: Bool, _ writable: Bool, _ hangup: Bool) -> Void

        init(fd: Int32, handler: @escaping (Bool, Bool, Bool) -> Void) {
            self.fd = fd
            self.handler = handler
        }
    }

    let epollFD: Int32
    /// The cross-thread entry point: the only member that may be used from other threads.
    public let handle: Handle
    private var timers = TimerHeap()
    private var registrations: [UInt64: Registration] = [:]
    private var nextToken: UInt64 = 1
    private var stopRequested = false
    /// Work deferred to the end of the current turn (`atEndOfTurn`).
    private var endOfTurn: [() -> Void] = []
    private var endOfTurnSpare: [() -> Void] = []
    /// Signal handlers and their signalfd (see `EventLoop+Signals.swift`).
    var signals = SignalState()
    /// `SSL_CTX` objects shared by streams with the same TLS configuration.
    var tlsContexts: [TLSConfiguration: TLSContext] = [:]

    /// The monotonic time, cached per loop iteration: refreshed after every `epoll_wait` and
    /// before computing the next timeout. Cheap; use it for deadlines computed in callbacks.
    public private(set) var now: Deadline

    /// Token reserved for the `handle`'s eventfd.
    private static let wakeToken: UInt64 = 0

    /// Creates the epoll instance and the wake-up eventfd.
    public init() throws {
        epollFD = try syscall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do {
            handle = try Handle()
        } catch {
            closeDescriptor(epollFD)
            throw error
        }
        now = .now()
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeToken
        do {
            try syscall("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, handle.eventFD, &event) }
        } catch {
            closeDescriptor(epollFD)
            throw error
        }
    }

    deinit {
        closeDescriptor(signals.fd)
        closeDescriptor(epollFD)
        readScratch.deallocate()
    }

    /// One 64 KiB read buffer shared by every stream of this loop: a read hands its bytes to the
    /// delegate, which must not keep them, before the next read can start (reads only happen in
    /// the loop's own fd callbacks). A buffer per stream cost a page or two of memory per session.
    public let readScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// Runs callbacks until `stop()` is called, then returns (the loop can be run again).
    ///
    /// Throws only if `epoll_wait` itself fails, which indicates a programming error.
    public func run() throws {
        defer { stopRequested = false }
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while !stopRequested {
            now = .now()
            runDueTimers()
            if stopRequested { break }
            now = .now()
            let timeout: Int32 = timers.nextDeadline().map { Int32(now.milliseconds(until: $0)) } ?? -1
            let count = try events.withUnsafeMutableBufferPointer { buffer in
                try syscall("epoll_wait") { epoll_wait(epollFD, buffer.baseAddress, Int32(buffer.count), timeout) }
            }
            now = .now()
            for index in 0..<Int(count) {
                if stopRequested { break }
                dispatch(events[index])
            }
            runEndOfTurn()
        }
    }

    /// Runs `body` once the callbacks of this turn (the ready descriptors, or the due timers)
    /// have run, before the loop waits again: the place to batch work that many callbacks of one
    /// turn produce (one `write(2)` for many lines). Work deferred while these run also runs in
    /// this turn, so a body must not keep deferring itself.
    public func atEndOfTurn(_ body: @escaping () -> Void) {
        endOfTurn.append(body)
    }

    private func runEndOfTurn() {
        while !endOfTurn.isEmpty && !stopRequested {
            swap(&endOfTurn, &endOfTurnSpare)
            for body in endOfTurnSpare { body() }
            endOfTurnSpare.removeAll(keepingCapacity: true)
        }
    }

    /// Makes `run()` return after the current callback. Loop thread only; from another thread
    /// use `handle.execute { ... }` with a closure that reaches the loop.
    public func stop() {
        stopRequested = true
    }

    /// Runs `body` on the loop at (or soon after) `deadline`. Timers with the same deadline
    /// fire in the order they were scheduled.
    @discardableResult
    public func schedule(at deadline: Deadline, _ body: @escaping () -> Void) -> TimerID {
        timers.insert(at: deadline, body)
    }

    /// Runs `body` on the loop after `afterMilliseconds` (0 = on the next iteration).
    @discardableResult
    public func schedule(afterMilliseconds: Int, _ body: @escaping () -> Void) -> TimerID {
        timers.insert(at: Deadline.now().adding(milliseconds: afterMilliseconds), body)
    }

    /// Cancels a timer; a no-op if it already fired or was cancelled.
    public func cancel(_ id: TimerID) {
        timers.cancel(id)
    }

    /// Watches `fd` for readiness; `handler` runs on the loop with what is ready. `hangup` is
    /// set for `EPOLLHUP`/`EPOLLERR` (read or check `SO_ERROR` to learn more).
    ///
    /// The watch is level-triggered. Cancel it before closing `fd`. One watch per descriptor.
    public func watch(fd: Int32, readable: Bool, writable: Bool,
                      _ handler: @escaping (_ readable: Bool, _ writable: Bool, _ hangup: Bool) -> Void) throws -> FDWatch {
        let token = nextToken
        nextToken += 1
        var event = epoll_event()
        event.events = Self.interest(readable: readable, writable: writable)
        event.data.u64 = token
        try syscall("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
        registrations[token] = Registration(fd: fd, handler: handler)
        return FDWatch(loop: self, fd: fd, token: token, events: event.events)
    }

    /// Forgets a registration (called by `FDWatch.cancel`); later events for it are dropped.
    func unregister(token: UInt64, fd: Int32) {
        guard registrations.removeValue(forKey: token) != nil else { return }
        var event = epoll_event()
        // ENOENT/EBADF: the descriptor was already closed, which removed it from the set.
        _ = try? syscall("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event) }
    }

    /// The epoll mask for an interest set.
    static func interest(readable: Bool, writable: Bool) -> UInt32 {
        (readable ? EPOLLIN.rawValue : 0) | (writable ? EPOLLOUT.rawValue : 0)
    }

    private func dispatch(_ event: epoll_event) {
        let token = event.data.u64
        if token == Self.wakeToken {
            for body in handle.takePending() {
                body()
            }
            return
        }
        // A registration cancelled earlier in this batch: drop its stale event.
        guard let registration = registrations[token] else { return }
        let bits = event.events
        registration.handler(
            bits & EPOLLIN.rawValue != 0,
            bits & EPOLLOUT.rawValue != 0,
            bits & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        )
    }

    private func runDueTimers() {
        // Only timers that are due now; one re-arming itself with 0 ms waits for the next pass.
        let limit = Deadline.now()
        while !stopRequested, let body = timers.popDue(now: limit) {
            body()
        }
        runEndOfTurn()
    }
}
