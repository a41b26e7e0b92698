import COpenSSL
import Glibc

/// The systemd service notification protocol (`sd_notify(3)`), written here without libsystemd:
/// `KEY=VALUE` lines in one datagram to the `AF_UNIX` `SOCK_DGRAM` socket named by
/// `NOTIFY_SOCKET` (a path, or an abstract name written with a leading `@`).
///
/// Without `NOTIFY_SOCKET` (not started by systemd with `Type=notify`) every call does nothing.
/// Sending never blocks (a full socket drops the message: systemd reads them at once) and a
/// failure is returned, never thrown into the caller's path.
public final class SystemdNotify {
    private let fd: Int32
    private var address = sockaddr_un()
    private let addressLength: socklen_t
    /// `WATCHDOG_USEC` when it is meant for this process (`WATCHDOG_PID` unset or ours).
    public let watchdogMicroseconds: UInt64?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` through `environment`; nil when
    /// there is no usable notification socket.
    public init?(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) {
        guard let name = environment("NOTIFY_SOCKET"), !name.isEmpty,
              name.hasPrefix("/") || name.hasPrefix("@") else { return nil }
        var path = Array(name.utf8)
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
        }
        // An abstract name is exactly its bytes; a path includes its terminating NUL.
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        addressLength = socklen_t(pathOffset + path.count + (path[0] == 0 ? 0 : 1))
        let s = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard s >= 0 else { return nil }
        fd = s
        var watchdog: UInt64?
        if let usec = environment("WATCHDOG_USEC").flatMap(UInt64.init), usec > 0 {
            let pid = environment("WATCHDOG_PID").flatMap(Int32.init)
            if pid == nil || pid == getpid() { watchdog = usec }
        }
        watchdogMicroseconds = watchdog
    }

    deinit { close(fd) }

    /// Sends `state` (newline-separated `KEY=VALUE` assignments) as one datagram.
    @discardableResult
    public func send(_ state: String) -> IOError? {
        var bytes = Array(state.utf8)
        let length = addressLength
        let sent = bytes.withUnsafeMutableBytes { buffer in
            withUnsafePointer(to: &address) { a in
                a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    var rc: Int
                    repeat { rc = sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), sa, length) } while rc < 0 && errno == EINTR
                    return rc
                }
            }
        }
        return sent < 0 ? IOError(errno: errno, function: "sendto NOTIFY_SOCKET") : nil
    }

    /// `READY=1`, with a `STATUS=` line.
    @discardableResult
    public func ready(status: String) -> IOError? { send("READY=1\nSTATUS=\(status)") }

    /// `RELOADING=1` with `MONOTONIC_USEC` (the reload start on `CLOCK_MONOTONIC`, as
    /// `Type=notify-reload` requires); `ready` ends it.
    @discardableResult
    public func reloading() -> IOError? {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let usec = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        return send("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }

    /// `STOPPING=1`.
    @discardableResult
    public func stopping() -> IOError? { send("STOPPING=1") }

    /// `WATCHDOG=1`.
    @discardableResult
    public func watchdog() -> IOError? { send("WATCHDOG=1") }

    /// Starts sending `WATCHDOG=1` on `loop` every half of `WATCHDOG_USEC` (nothing without it):
    /// the ping comes from the event loop itself, so a wedged loop stops it and systemd restarts
    /// the service.
    public func startWatchdog(on loop: EventLoop) {
        guard let usec = watchdogMicroseconds else { return }
        let intervalMs = max(Int(usec / 2000), 1)
        func tick() {
            watchdog()
            loop.schedule(afterMilliseconds: intervalMs) { tick() }
        }
        tick()
    }
}
