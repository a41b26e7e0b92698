import COpenSSL
import Glibc

/// Receives a `ServerConnection`'s events, on its loop's thread.
///
/// The connection holds its delegate strongly until it has delivered `connection(_:didClose:)`.
public protocol ServerConnectionDelegate: AnyObject {
    /// Bytes arrived. `bytes` is valid only during the call (the connection reuses one read
    /// buffer). Copy what you keep.
    func connection(_ connection: ServerConnection, didRead bytes: UnsafeRawBufferPointer)
    /// The write buffer emptied after having been above `writeHighWaterMark`.
    func connectionDidDrain(_ connection: ServerConnection)
    /// The connection is closed; called exactly once, on a later loop iteration than the call
    /// or event that closed it. `nil` means orderly: EOF from the peer, `close()` or `abort()`.
    func connection(_ connection: ServerConnection, didClose error: TransportError?)
}

extension ServerConnectionDelegate {
    /// Does nothing: most servers only need reads and the close.
    public func connectionDidDrain(_ connection: ServerConnection) {}
}

/// An accepted plain-TCP connection, driven by an `EventLoop` (see `TCPListener`).
///
/// Loop-thread only. Nothing is read until `start(delegate:)`; the connection then keeps itself
/// alive until it is closed. Writes are sent at once when the socket allows and buffered
/// otherwise (`pendingWriteBytes`, `connectionDidDrain` for backpressure). EOF from the peer
/// closes the connection.
///
/// `close()` is graceful: pending writes are flushed (for at most `closeFlushTimeoutMs`), then
/// the write side is shut down and input is read and discarded until the peer's EOF (for at most
/// `lingerTimeoutMs`), so a client still sending does not get a reset that destroys the
/// response it has not read yet.
public final class ServerConnection {
    enum State {
        case idle, open, flushing, lingering, closed
    }

    /// Size of the read buffer each connection owns (smaller than a client stream's: servers
    /// hold many connections and read small requests).
    static let readBufferSize = 16 * 1024

    private let loop: EventLoop
    private(set) var fd: Int32
    private var watch: FDWatch?
    private var state: State = .idle
    private var delegate: ServerConnectionDelegate?
    private var writeBuffer = WriteBuffer()
    private var aboveHighWaterMark = false
    private var closeTimer: TimerID?
    private let readBuffer: UnsafeMutableRawBufferPointer

    /// The peer's address, `"1.2.3.4:port"` or `"[::1]:port"`.
    public let peerDescription: String
    /// Above this many pending bytes `connectionDidDrain` is called once the buffer empties. Default 1 MiB.
    public var writeHighWaterMark = 1 << 20
    /// How long `close()` may spend flushing pending writes. Default 5 s.
    public var closeFlushTimeoutMs = 5_000
    /// How long `close()` waits for the peer's EOF after flushing. Default 2 s.
    public var lingerTimeoutMs = 2_000
    /// Whether reading is paused (`pauseReading()`).
    public private(set) var isReadingPaused = false

    init(fd: Int32, peer: String, loop: EventLoop) {
        self.fd = fd
        self.peerDescription = peer
        self.loop = loop
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
        closeDescriptor(fd)
    }

    /// Bytes accepted by `write` and not yet handed to the kernel.
    public var pendingWriteBytes: Int { writeBuffer.count }

    /// Whether the connection is started and neither closing nor closed.
    public var isOpen: Bool { state == .open }

    /// Starts reading and delivering events to `delegate`. Once only; a failure to register
    /// with the loop arrives as `didClose` with the error.
    public func start(delegate: ServerConnectionDelegate) {
        guard state == .idle else { return }
        self.delegate = delegate
        state = .open
        do {
            watch = try loop.watch(fd: fd, readable: !isReadingPaused, writable: !writeBuffer.isEmpty) { [self] readable, writable, hangup in
                handleEvent(readable: readable, writable: writable, hangup: hangup)
            }
        } catch let error as IOError {
            teardown(error: TransportError(error, peer: peerDescription))
        } catch {
            teardown(error: TransportError(kind: .io, peer: peerDescription, message: "\(error)"))
        }
    }

    /// Sends `bytes` (copied when they cannot be sent at once). Ignored once closing.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        switch state {
        case .flushing, .lingering, .closed:
            return
        case .idle:
            writeBuffer.append(bytes)
        case .open:
            var written = 0
            if writeBuffer.isEmpty {
                guard let count = writeSome(bytes) else { return }
                written = count
            }
            if written < bytes.count { writeBuffer.append(UnsafeRawBufferPointer(rebasing: bytes[written...])) }
            updateInterest()
        }
        if writeBuffer.count > writeHighWaterMark { aboveHighWaterMark = true }
    }

    /// Sends `bytes` (see `write(_: UnsafeRawBufferPointer)`).
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Stops reading (the kernel buffers, then TCP flow control slows the peer).
    public func pauseReading() {
        isReadingPaused = true
        updateInterest()
    }

    /// Resumes reading after `pauseReading()`.
    public func resumeReading() {
        isReadingPaused = false
        updateInterest()
    }

    /// Flushes, shuts down the write side, lingers for the peer's EOF, then closes (see the
    /// type's documentation). Before `start` this is the same as `abort()`.
    public func close() {
        switch state {
        case .idle: teardown(error: nil)
        case .flushing, .lingering, .closed: return
        case .open:
            guard !writeBuffer.isEmpty else { return beginLinger() }
            state = .flushing
            let pending = writeBuffer.count
            closeTimer = loop.schedule(afterMilliseconds: closeFlushTimeoutMs) { [self] in
                closeTimer = nil
                teardown(error: TransportError(kind: .timedOut, peer: peerDescription,
                                               message: "close: \(pending) bytes still unsent after \(closeFlushTimeoutMs) ms"))
            }
            updateInterest()
        }
    }

    /// Closes at once, dropping pending writes; the delegate still gets `didClose(nil)`.
    public func abort() {
        teardown(error: nil)
    }

    private func beginLinger() {
        if let closeTimer { loop.cancel(closeTimer) }
        _ = shutdown(fd, Int32(SHUT_WR))
        state = .lingering
        closeTimer = loop.schedule(afterMilliseconds: lingerTimeoutMs) { [self] in
            closeTimer = nil
            teardown(error: nil)
        }
        updateInterest()
    }

    private func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        switch state {
        case .idle, .closed:
            return
        case .lingering:
            readAvailable(discard: true)
        case .open, .flushing:
            if state == .open, readable || hangup {
                if isReadingPaused {
                    // Only a hang-up wakes a paused connection: the peer is gone both ways.
                    if hangup && writeBuffer.isEmpty { return teardown(error: nil) }
                } else {
                    readAvailable(discard: false)
                }
            }
            if state == .open || state == .flushing, !writeBuffer.isEmpty, writable || hangup { flush() }
        }
    }

    /// Reads what is available (bounded per wake-up) and hands it on, or drops it while lingering.
    private func readAvailable(discard: Bool) {
        for _ in 0..<8 {
            guard discard ? state == .lingering : (state == .open && !isReadingPaused) else { return }
            let socket = fd
            let buffer = readBuffer
            let count: Int
            do {
                switch try syscallAllowingWouldBlock("recv", { recv(socket, buffer.baseAddress, buffer.count, 0) }) {
                case .wouldBlock: return
                case .processed(let n): count = n
                }
            } catch let error as IOError {
                return teardown(error: discard ? nil : TransportError(error, peer: peerDescription))
            } catch {
                return teardown(error: nil)
            }
            if count == 0 { return teardown(error: nil) }
            if !discard { delegate?.connection(self, didRead: UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])) }
        }
    }

    /// Writes a prefix of `bytes`; `nil` if the connection failed (already torn down).
    private func writeSome(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let socket = fd
        do {
            switch try syscallAllowingWouldBlock("send", { send(socket, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }) {
            case .processed(let n): return n
            case .wouldBlock: return 0
            }
        } catch let error as IOError {
            teardown(error: TransportError(error, peer: peerDescription))
        } catch {
            teardown(error: TransportError(kind: .io, peer: peerDescription, message: "\(error)"))
        }
        return nil
    }

    private func flush() {
        guard writeBuffer.drain({ writeSome($0) }) else { return }
        guard state == .open || state == .flushing else { return }
        if writeBuffer.isEmpty {
            if aboveHighWaterMark {
                aboveHighWaterMark = false
                delegate?.connectionDidDrain(self)
            }
            if state == .flushing { return beginLinger() }
        }
        updateInterest()
    }

    private func updateInterest() {
        guard let watch, state != .closed, state != .idle else { return }
        let readable = state == .lingering || (state == .open && !isReadingPaused)
        let writable = (state == .open || state == .flushing) && !writeBuffer.isEmpty
        do {
            try watch.update(readable: readable, writable: writable)
        } catch let error as IOError {
            teardown(error: TransportError(error, peer: peerDescription))
        } catch {
            teardown(error: TransportError(kind: .io, peer: peerDescription, message: "\(error)"))
        }
    }

    /// Releases every resource and schedules the single `didClose` notification.
    private func teardown(error: TransportError?) {
        guard state != .closed else { return }
        state = .closed
        if let closeTimer { loop.cancel(closeTimer) }
        closeTimer = nil
        watch?.cancel()
        watch = nil
        closeDescriptor(fd)
        fd = -1
        writeBuffer.reset()
        guard let delegate else { return }
        self.delegate = nil
        // Deferred so that a delegate never re-enters from inside its own write/close call.
        loop.schedule(afterMilliseconds: 0) { [self] in
            delegate.connection(self, didClose: error)
        }
    }
}
