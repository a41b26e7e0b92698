#if canImport(Glibc)
import Glibc
#endif

/// Buffered, non-blocking writes to a file descriptor on the event loop (stdout, a child's stdin).
///
/// Writes go out at once when the descriptor takes them, else wait in one buffer, flushed when the
/// descriptor becomes writable. `pendingBytes` lets the caller apply backpressure.
public final class FDWriter {
    private let fd: Int32
    private let loop: EventLoop
    private var buffer: [UInt8] = []
    private var start = 0
    private var watch: FDWatch?
    private var failed = false
    /// Called once when a write fails (EPIPE when the reader went away).
    public var onError: ((IOError) -> Void)?
    /// Called when the buffer has drained completely after having held data.
    public var onDrain: (() -> Void)?

    /// Writes to `fd` (made non-blocking unless it is a regular file).
    public init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Bytes accepted but not yet written.
    public var pendingBytes: Int { buffer.count - start }

    /// Bytes the buffer holds allocated (written ones not yet compacted away included).
    public var bufferCapacity: Int { buffer.capacity }

    /// Whether a write has failed (later writes are dropped).
    public var hasFailed: Bool { failed }

    /// Writes `bytes`, or buffers them.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !failed, bytes.count > 0 else { return }
        if pendingBytes == 0 {
            var off = 0
            while off < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
                if n > 0 { off += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN { break }
                return fail(IOError(errno: n < 0 ? errno : EIO, function: "write"))
            }
            if off == bytes.count { return }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[off...]))
        } else {
            compact()
            buffer.append(contentsOf: bytes)
        }
        armWatch()
    }

    /// Writes `bytes`, or buffers them.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Stops watching; unwritten bytes are dropped. Does not close the descriptor.
    public func cancel() {
        watch?.cancel()
        watch = nil
        buffer.removeAll()
        start = 0
    }

    /// Drops the bytes written already from the front of the buffer once they are most of it.
    /// Without this, a reader that never quite catches up (a slow child, a slow stdout reader
    /// topped up as it reads) kept the buffer from ever draining completely, and it grew with
    /// every byte ever written (32 MiB for 8,000 4 KiB events to `pipe`).
    private func compact() {
        guard start >= 64 << 10, start * 2 >= buffer.count else { return }
        buffer.removeFirst(start)
        start = 0
    }

    private func armWatch() {
        guard watch == nil else { return }
        do {
            watch = try loop.watch(fd: fd, readable: false, writable: true) { [weak self] _, _, hup in self?.flush(hangup: hup) }
        } catch {
            fail(error as? IOError ?? IOError(errno: EIO, function: "epoll_ctl"))
        }
    }

    private func flush(hangup: Bool) {
        while pendingBytes > 0 {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + start, $0.count - start) }
            if n > 0 { start += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return }
            return fail(IOError(errno: n < 0 ? errno : EIO, function: "write"))
        }
        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
        start = 0
        watch?.cancel()
        watch = nil
        onDrain?()
    }

    private func fail(_ error: IOError) {
        guard !failed else { return }
        failed = true
        cancel()
        onError?(error)
    }
}
