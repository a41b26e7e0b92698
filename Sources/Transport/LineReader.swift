#if canImport(Glibc)
import Glibc
#endif

/// Reads newline-terminated lines from a file descriptor on the event loop (stdin, a child's stdout
/// or stderr), with a bound on line length: a longer line is reported as oversized and skipped up to
/// its newline, never buffered without limit.
///
/// Works for pipes, sockets and terminals (epoll), and for regular files, which epoll refuses: those
/// are read in chunks from loop callbacks so that other work still interleaves.
public final class LineReader {
    /// One unit of input.
    public enum Input {
        /// A complete line without its `\n` (a trailing `\r` is kept: the caller decides).
        case line(UnsafeRawBufferPointer)
        /// A line longer than the limit was dropped; its length so far.
        case oversized(Int)
    }

    private let fd: Int32
    private let loop: EventLoop
    private let maxLine: Int
    private var watch: FDWatch?
    private var buffer: [UInt8] = []
    private var start = 0
    private var skipping = 0
    private var finished = false
    private var paused = false
    private let onInput: (Input) -> Void
    private let onEnd: (IOError?) -> Void
    /// Not zero-filled: pages are only touched as far as reads fill them.
    private let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)

    /// Starts reading `fd` (made non-blocking). `onEnd` runs once at EOF or on a read error; a last
    /// line without a newline is delivered before it.
    public init(fd: Int32, maxLineBytes: Int = 1 << 20, loop: EventLoop,
                onInput: @escaping (Input) -> Void, onEnd: @escaping (IOError?) -> Void) {
        self.fd = fd
        self.loop = loop
        self.maxLine = maxLineBytes
        self.onInput = onInput
        self.onEnd = onEnd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        do {
            watch = try loop.watch(fd: fd, readable: true, writable: false) { [weak self] _, _, _ in self?.readAvailable() }
        } catch {
            // A regular file (EPERM from epoll): always readable.
            loop.schedule(afterMilliseconds: 0) { [weak self] in self?.readFileChunk() }
        }
    }

    deinit { chunk.deallocate() }

    /// Stops reading until `resume()`: backpressure from a slow consumer.
    public func pause() {
        guard !paused, !finished else { return }
        paused = true
        try? watch?.update(readable: false, writable: false)
    }

    /// Resumes reading after `pause()`.
    public func resume() {
        guard paused, !finished else { return }
        paused = false
        if let watch { try? watch.update(readable: true, writable: false) } else {
            loop.schedule(afterMilliseconds: 0) { [weak self] in self?.readFileChunk() }
        }
        // Lines already buffered go out now.
        split()
    }

    /// Reads and delivers whatever is available right now (until the pipe would block or ends),
    /// e.g. the last lines of a child that just exited, before the loop gets to them.
    public func drainNow() {
        guard !finished else { return }
        let wasPaused = paused
        paused = false
        while !finished && readOnce() {}
        paused = wasPaused
    }

    /// Stops reading for good; `onEnd` is not called.
    public func cancel() {
        finished = true
        watch?.cancel()
        watch = nil
    }

    private func readFileChunk() {
        guard !finished, !paused else { return }
        if readOnce() { loop.schedule(afterMilliseconds: 0) { [weak self] in self?.readFileChunk() } }
    }

    private func readAvailable() {
        while !finished && !paused && readOnce() {}
    }

    /// Reads once; returns whether more may be available right away.
    private func readOnce() -> Bool {
        let n = read(fd, chunk.baseAddress, chunk.count)
        if n > 0 {
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            split()
            return n == chunk.count || watch == nil
        }
        if n < 0 && errno == EINTR { return true }
        if n < 0 && errno == EAGAIN { return false }
        end(n < 0 ? IOError(errno: errno, function: "read") : nil)
        return false
    }

    private func split() {
        while !paused && !finished {
            guard let nl = buffer[start...].firstIndex(of: 0x0A) else { break }
            if skipping > 0 {
                onInput(.oversized(skipping + nl - start))
                skipping = 0
            } else if nl - start > maxLine {
                onInput(.oversized(nl - start))
            } else {
                buffer.withUnsafeBytes { onInput(.line(UnsafeRawBufferPointer(rebasing: $0[start..<nl]))) }
            }
            start = nl + 1
        }
        if buffer.count - start > maxLine {
            // No newline within the limit: drop what we have and skip to the next newline.
            skipping += buffer.count - start
            start = buffer.count
        }
        if start > 0 && (start == buffer.count || start > 32_768) {
            buffer.removeFirst(start)
            start = 0
        }
    }

    private func end(_ error: IOError?) {
        guard !finished else { return }
        if error == nil && start < buffer.count && skipping == 0 {
            buffer.withUnsafeBytes { onInput(.line(UnsafeRawBufferPointer(rebasing: $0[start...]))) }
        } else if skipping > 0 {
            onInput(.oversized(skipping + buffer.count - start))
        }
        buffer.removeAll()
        start = 0
        finished = true
        watch?.cancel()
        watch = nil
        onEnd(error)
    }
}
