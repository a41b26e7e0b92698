import Glibc

/// A failed system call: the `errno` it left and the name of the function that failed.
public struct IOError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The `errno` value reported by the failing call.
    public var errno: Int32
    /// The name of the system call or library function that failed, e.g. `"epoll_ctl"`.
    public var function: String

    /// Creates an error for `function` failing with `errno`.
    public init(errno: Int32, function: String) {
        self.errno = errno
        self.function = function
    }

    /// `"<function>: <strerror(errno)> (errno <n>)"`.
    public var description: String {
        "\(function): \(errnoDescription(errno)) (errno \(errno))"
    }
}

/// `strerror_r` without touching shared state: the text for an `errno` value.
func errnoDescription(_ code: Int32) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer -> String in
        // Swift's Glibc imports the XSI strerror_r: 0 on success, text in `buffer`.
        guard let base = buffer.baseAddress, strerror_r(code, base, 256) == 0 else { return "errno \(code)" }
        return String(cString: base)
    }
}

/// Runs a system call, retrying on `EINTR`; throws `IOError` when it returns -1.
///
/// Every syscall in this module goes through here (or `syscallAllowingWouldBlock`), so the
/// retry rule and the error mapping live in one place.
@discardableResult
func syscall<T: FixedWidthInteger>(_ function: String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw IOError(errno: code, function: function)
    }
}

/// Outcome of a non-blocking read or write.
enum IOResult<T> {
    case processed(T)
    case wouldBlock
}

/// Like `syscall`, but maps `EAGAIN`/`EWOULDBLOCK` (and `EINPROGRESS` for `connect`) to `.wouldBlock`.
func syscallAllowingWouldBlock<T: FixedWidthInteger>(_ function: String, _ body: () -> T) throws -> IOResult<T> {
    while true {
        let result = body()
        if result != -1 { return .processed(result) }
        let code = Glibc.errno
        switch code {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK, EINPROGRESS: return .wouldBlock
        default: throw IOError(errno: code, function: function)
        }
    }
}

/// Closes a descriptor, ignoring the result: after `close` the descriptor is gone even on
/// error (Linux never leaves it open, and retrying on EINTR could close a reused number).
func closeDescriptor(_ fd: Int32) {
    if fd >= 0 { _ = Glibc.close(fd) }
}
