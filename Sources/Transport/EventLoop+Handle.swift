import COpenSSL
import Glibc
import Synchronization

extension EventLoop {
    /// The thread-safe way into an `EventLoop`: `execute` queues a closure and wakes the loop
    /// through an eventfd; the closure then runs on the loop thread.
    ///
    /// `Sendable` is checked by the compiler, not asserted: the only state is an immutable
    /// descriptor and a `Mutex`-protected queue. A handle may outlive its loop; closures
    /// queued after the loop is gone are never run.
    public final class Handle: Sendable {
        let eventFD: Int32
        private let pending = Mutex<[@Sendable () -> Void]>([])

        init() throws {
            eventFD = try syscall("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        }

        deinit {
            closeDescriptor(eventFD)
        }

        /// Runs `body` on the loop thread, soon. Safe from any thread, including the loop's.
        public func execute(_ body: @escaping @Sendable () -> Void) {
            let first = pending.withLock { queue in
                queue.append(body)
                return queue.count == 1
            }
            // Only the producer that made the queue non-empty needs to wake the loop. EAGAIN
            // means the counter is saturated, i.e. already readable: nothing is lost.
            if first {
                var one: UInt64 = 1
                _ = try? syscallAllowingWouldBlock("write(eventfd)") { Glibc.write(eventFD, &one, 8) }
            }
        }

        /// Clears the eventfd, then takes the queue (in that order, so no wake-up is lost).
        func takePending() -> [@Sendable () -> Void] {
            var counter: UInt64 = 0
            _ = try? syscallAllowingWouldBlock("read(eventfd)") { Glibc.read(eventFD, &counter, 8) }
            return pending.withLock { queue in
                let taken = queue
                queue.removeAll()
                return taken
            }
        }
    }
}
