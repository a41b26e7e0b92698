#if canImport(Glibc)
import Glibc
#endif

/// Reaps every child of the daemon on its event loop (SIGCHLD through signalfd, then `waitpid` until
/// none is left) and reports the exits of the children it was asked about.
///
/// Children nobody registered are reaped too: when the daemon is PID 1 in a container, orphans are
/// re-parented to it and would otherwise stay zombies.
public final class ChildReaper {
    private let loop: EventLoop
    private var waiters: [pid_t: (ChildExit) -> Void] = [:]
    private var early: [pid_t: ChildExit] = [:]

    /// Installs the SIGCHLD handler on `loop`. Create one per loop, before spawning children.
    public init(loop: EventLoop) throws {
        self.loop = loop
        try loop.onSignal(SIGCHLD) { [weak self] in self?.reap() }
    }

    /// Calls `handler` once, on the loop, when `pid` exits.
    public func onExit(of pid: pid_t, _ handler: @escaping (ChildExit) -> Void) {
        if let exit = early.removeValue(forKey: pid) {
            loop.schedule(afterMilliseconds: 0) { handler(exit) }
            return
        }
        waiters[pid] = handler
        // The child may have exited before we were asked: look now rather than wait for a signal
        // that has already been consumed.
        reap()
    }

    /// Collects every exited child.
    public func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            let exit = ChildExit(status: status)
            if let waiter = waiters.removeValue(forKey: pid) {
                waiter(exit)
            } else if early.count < 1024 {
                early[pid] = exit
            }
        }
    }
}
