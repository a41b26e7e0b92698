import COpenSSL
import Glibc

/// The loop's signalfd and the handlers registered with `EventLoop.onSignal`.
struct SignalState {
    var fd: Int32 = -1
    var mask = sigset_t()
    var handlers: [Int32: () -> Void] = [:]
    var watch: FDWatch?
}

extension EventLoop {
    /// Runs `handler` on the loop whenever signal `signo` arrives (via a signalfd).
    ///
    /// The signal is blocked in the calling thread's mask so that it stays pending for the
    /// signalfd instead of running its default action. A signal sent to the process is
    /// delivered to any thread that does not block it, so `main` must call this (on the thread
    /// that will run the loop) **before spawning any other thread**; threads created later
    /// inherit the blocked mask. Registering the same signal again replaces its handler.
    public func onSignal(_ signo: Int32, _ handler: @escaping () -> Void) throws {
        var one = sigset_t()
        sigemptyset(&one)
        sigaddset(&one, signo)
        // pthread_sigmask returns the error number instead of setting errno.
        let rc = pthread_sigmask(SIG_BLOCK, &one, nil)
        if rc != 0 { throw IOError(errno: rc, function: "pthread_sigmask") }

        if signals.fd < 0 { sigemptyset(&signals.mask) }
        sigaddset(&signals.mask, signo)
        if signals.fd < 0 {
            let fd = try syscall("signalfd") { signalfd(-1, &signals.mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
            signals.fd = fd
            signals.watch = try watch(fd: fd, readable: true, writable: false) { [unowned self] _, _, _ in
                self.drainSignals()
            }
        } else {
            try syscall("signalfd") { signalfd(signals.fd, &signals.mask, 0) }
        }
        signals.handlers[signo] = handler
    }

    /// Reads every queued `signalfd_siginfo` and runs the matching handlers.
    private func drainSignals() {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let result = try? syscallAllowingWouldBlock("read(signalfd)") { Glibc.read(signals.fd, &info, size) }
            guard case .processed(let count)? = result, count == size else { return }
            signals.handlers[Int32(bitPattern: info.ssi_signo)]?()
        }
    }
}
