import COpenSSL
import Glibc

/// A file descriptor registered with an `EventLoop` (see `EventLoop.watch`).
///
/// Loop-thread only. The watch does not own the descriptor: cancel the watch, then close it.
/// Dropping the last reference does not cancel the watch; the loop keeps the handler alive
/// until `cancel()` is called.
public final class FDWatch {
    private weak var loop: EventLoop?
    /// The watched descriptor.
    public let fd: Int32
    private let token: UInt64
    private var events: UInt32
    private var cancelled = false

    init(loop: EventLoop, fd: Int32, token: UInt64, events: UInt32) {
        self.loop = loop
        self.fd = fd
        self.token = token
        self.events = events
    }

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool { cancelled }

    /// Changes the interest set; a no-op (no syscall) when it is unchanged.
    ///
    /// Throws `IOError` if `epoll_ctl` fails (e.g. the descriptor was closed under the watch).
    public func update(readable: Bool, writable: Bool) throws {
        guard !cancelled, let loop else { return }
        let wanted = EventLoop.interest(readable: readable, writable: writable)
        guard wanted != events else { return }
        var event = epoll_event()
        event.events = wanted
        event.data.u64 = token
        try syscall("epoll_ctl") { epoll_ctl(loop.epollFD, EPOLL_CTL_MOD, fd, &event) }
        events = wanted
    }

    /// Stops watching; the handler is released and never called again. Idempotent.
    public func cancel() {
        guard !cancelled else { return }
        cancelled = true
        loop?.unregister(token: token, fd: fd)
    }
}
