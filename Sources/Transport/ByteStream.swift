import COpenSSL
import Glibc

/// A client TCP connection, optionally wrapped in TLS, driven by an `EventLoop`.
///
/// Loop-thread only. `connect` returns at once; events reach the delegate on later loop
/// iterations. Writes made before the connection is up are buffered and sent once it is. The
/// stream keeps itself alive while open: end it with `close()` or `abort()`.
public final class ByteStream {
    enum State {
        case resolving, connecting, proxying, handshaking, open, closing, closed
    }

    /// Size of the single read buffer each stream owns.
    static let readBufferSize = 64 * 1024

    let loop: EventLoop
    var delegate: ByteStreamDelegate?
    let host: String
    let port: Int
    let tlsConfiguration: TLSConfiguration?
    let connectTimeoutMs: Int
    /// The HTTP proxy the connection tunnels through with `CONNECT`, if any.
    let proxy: HTTPProxy?
    /// The proxy's response head so far (bounded by `maxProxyResponseBytes`).
    var proxyResponse: [UInt8] = []
    static let maxProxyResponseBytes = 16 * 1024
    var state: State = .resolving
    var fd: Int32 = -1
    var watch: FDWatch?
    var addresses: [ResolvedAddress] = []
    var nextAddress = 0
    var lastConnectError: TransportError?
    var connectTimer: TimerID?
    var closeTimer: TimerID?
    var tls: TLSSession?
    var tlsWriteWantsRead = false
    var tlsReadWantsWrite = false
    var handshakeWantsWrite = false
    /// The loop's shared read buffer.
    var readBuffer: UnsafeMutableRawBufferPointer { loop.readScratch }
    var writeBuffer = WriteBuffer()
    var aboveHighWaterMark = false
    /// Whether the owner asked to stop reading (backpressure): no `didRead` until resumed.
    public internal(set) var isReadingPaused = false
    var resumeReadScheduled = false

    /// Above this many pending bytes the stream remembers to call `streamDidDrain` once the
    /// buffer empties. Default 1 MiB.
    public var writeHighWaterMark = 1 << 20

    /// The most bytes `write` may hold unsent: past it the peer is not reading what we send (a
    /// ping flood it never reads the pongs of, a stalled receiver), and the stream fails with
    /// a `.io` error naming the limit rather than growing without bound. Default: no limit.
    public var maxPendingWriteBytes = Int.max

    /// How long `close()` may spend flushing pending writes before it gives up. Default 5 s.
    public var closeFlushTimeoutMs = 5_000

    /// The ALPN protocol the TLS server selected (`nil` for plain TCP or none).
    public internal(set) var negotiatedALPN: String?

    private init(host: String, port: Int, tls: TLSConfiguration?, connectTimeoutMs: Int, proxy: HTTPProxy?,
                 loop: EventLoop, delegate: ByteStreamDelegate) {
        self.proxy = proxy
        self.loop = loop
        self.delegate = delegate
        self.host = host
        self.port = port
        self.tlsConfiguration = tls
        self.connectTimeoutMs = connectTimeoutMs
    }

    deinit {
        closeDescriptor(fd)
    }

    /// Starts connecting to `host:port` (resolving the name off the loop, trying each address
    /// in turn), then runs the TLS handshake if `tls` is given.
    ///
    /// `connectTimeoutMs` bounds everything up to `streamDidConnect`: DNS, TCP and TLS. Failures
    /// arrive as `stream(_:didClose:)` with a `TransportError`.
    ///
    /// With `proxy`, the TCP connection goes to the proxy, which is asked to tunnel to
    /// `host:port` with `CONNECT` (the name is resolved by the proxy); TLS then runs end to end
    /// with the destination, verified against `host` as without a proxy.
    public static func connect(host: String, port: Int, tls: TLSConfiguration?, connectTimeoutMs: Int = 10_000,
                               proxy: HTTPProxy? = nil, on loop: EventLoop, delegate: ByteStreamDelegate) -> ByteStream {
        let stream = ByteStream(host: host, port: port, tls: tls, connectTimeoutMs: connectTimeoutMs, proxy: proxy,
                                loop: loop, delegate: delegate)
        stream.start()
        return stream
    }

    /// `"host:port"` (`"[v6]:port"` for IPv6 literals), as passed to `connect`.
    public var peerDescription: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Bytes accepted by `write` and not yet handed to the kernel (or to OpenSSL).
    public var pendingWriteBytes: Int { writeBuffer.count }

    /// Sends `bytes`: written immediately when possible, the rest buffered (copied) and sent as
    /// the socket allows. Ignored once `close()`/`abort()` was called or the stream failed.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        switch state {
        case .closing, .closed:
            return
        case .resolving, .connecting, .proxying, .handshaking:
            writeBuffer.append(bytes)
        case .open:
            var written = 0
            if writeBuffer.isEmpty && !tlsWriteWantsRead {
                guard let count = writeSome(bytes) else { return }
                written = count
            }
            if written < bytes.count {
                writeBuffer.append(UnsafeRawBufferPointer(rebasing: bytes[written...]))
            }
            updateInterest()
        }
        if writeBuffer.count > writeHighWaterMark { aboveHighWaterMark = true }
        if writeBuffer.count > maxPendingWriteBytes {
            fail(.io, "the peer is not reading: \(writeBuffer.count) bytes unsent, over the limit of \(maxPendingWriteBytes)")
        }
    }

    /// Stops reading (backpressure): the socket's read interest is dropped, so the kernel's
    /// receive buffer fills and TCP flow control slows the peer. Writes go on. A hangup seen
    /// while paused is still read (what is left in the socket, then the end).
    public func pauseReading() {
        guard !isReadingPaused else { return }
        isReadingPaused = true
        updateInterest()
    }

    /// Reads again; what arrived meanwhile (and anything TLS had already decrypted) is read on
    /// the next loop turn.
    public func resumeReading() {
        guard isReadingPaused else { return }
        isReadingPaused = false
        updateInterest()
        guard !resumeReadScheduled else { return }
        resumeReadScheduled = true
        loop.schedule(afterMilliseconds: 0) { [weak self] in
            guard let self else { return }
            self.resumeReadScheduled = false
            guard !self.isReadingPaused, self.state == .open || self.state == .closing else { return }
            self.readAvailable()
            if self.state == .open || self.state == .closing, !self.writeBuffer.isEmpty { self.flush() }
        }
    }

    /// Sends `bytes` (see `write(_: UnsafeRawBufferPointer)`).
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Flushes pending writes (for at most `closeFlushTimeoutMs`), sends TLS `close_notify`
    /// (best effort) and closes. Before the connection is up this is the same as `abort()`.
    public func close() {
        switch state {
        case .closing, .closed:
            return
        case .resolving, .connecting, .proxying, .handshaking:
            teardown(error: nil)
        case .open:
            if writeBuffer.isEmpty {
                finishClose()
                return
            }
            state = .closing
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

    /// Sends `close_notify` if TLS, then tears down without error.
    func finishClose() {
        tls?.shutdown()
        teardown(error: nil)
    }

    /// Releases every resource and schedules the single `didClose` notification.
    func teardown(error: TransportError?) {
        guard state != .closed else { return }
        state = .closed
        if let connectTimer { loop.cancel(connectTimer) }
        if let closeTimer { loop.cancel(closeTimer) }
        connectTimer = nil
        closeTimer = nil
        watch?.cancel()
        watch = nil
        tls = nil
        closeDescriptor(fd)
        fd = -1
        writeBuffer.reset()
        let delegate = self.delegate
        self.delegate = nil
        // Deferred so that a delegate never re-enters from inside its own write/close call.
        loop.schedule(afterMilliseconds: 0) { [self] in
            delegate?.stream(self, didClose: error)
        }
    }

    /// Tears down with `kind` and `message` for this peer.
    func fail(_ kind: TransportError.Kind, _ message: String) {
        teardown(error: TransportError(kind: kind, peer: peerDescription, message: message))
    }
}
