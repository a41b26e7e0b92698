import SocketIO
import Transport
import WebSocket

/// The Engine.IO WebSocket transport: a `ByteStream` (TCP or TLS), the RFC 6455 handshake and frame
/// codec, and one Engine.IO packet per frame.
final class WebSocketChannel: EngineTransport, ByteStreamDelegate {
    let name = "websocket"
    private enum Phase { case connecting, upgrading, open, closing, closed }

    private weak var delegate: EngineTransportDelegate?
    private var stream: ByteStream?
    private let request: WebSocketHandshakeRequest
    private let peer: String
    private let target: String
    private var phase = Phase.connecting
    private var headParser = HTTPResponseHeadParser()
    private var frames: WebSocketFrameParser
    private var state: WebSocketConnectionState
    private var random = FastRandom()
    private var out: [UInt8] = []
    private var closeTimer: TimerID?
    /// `connect_timeout` covers the upgrade too, not only the TCP (and TLS) connect.
    private var handshakeTimer: TimerID?
    private let loop: EventLoop
    /// Backpressure: while set, no frame is taken from the parser and the socket is not read.
    private var readingPaused = false
    private var resumeScheduled = false
    /// The stream ended while paused with frames unread: reported after they are consumed.
    private var deferredClose: TransportError??

    /// Connects to `url` and upgrades to WebSocket with `target` (path and query).
    /// `maxPendingWriteBytes` bounds what may wait unsent (pongs to a peer that never reads):
    /// past it the connection fails with that reason.
    init(url: ServerURL, target: String, tls: TLSConfiguration?, maxMessageSize: Int, connectTimeoutMs: Int,
         maxPendingWriteBytes: Int = 4 << 20, loop: EventLoop, delegate: EngineTransportDelegate) throws(ConnectionFailure) {
        self.loop = loop
        self.delegate = delegate
        self.peer = "\(url.hostHeader)"
        self.target = target
        var key = [UInt8](repeating: 0, count: 16)
        var rng = FastRandom()
        for i in 0..<16 { key[i] = UInt8(truncatingIfNeeded: rng.next()) }
        do {
            request = try WebSocketHandshakeRequest(host: url.hostHeader, path: target, key: key)
        } catch {
            throw .handshake(peer: url.hostHeader, detail: error.description)
        }
        frames = WebSocketFrameParser(maxFrameSize: maxMessageSize)
        state = WebSocketConnectionState(maxMessageSize: maxMessageSize)
        // HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as libcurl reads them for polling and webhooks.
        stream = ByteStream.connect(host: url.host, port: url.port, tls: tls, connectTimeoutMs: connectTimeoutMs,
                                    proxy: HTTPProxy.fromEnvironment(secure: url.secure, host: url.host), on: loop, delegate: self)
        stream?.maxPendingWriteBytes = maxPendingWriteBytes
        handshakeTimer = loop.schedule(afterMilliseconds: connectTimeoutMs) { [weak self] in
            guard let self, self.phase == .connecting || self.phase == .upgrading else { return }
            self.handshakeTimer = nil
            self.finish(.transport(TransportError(kind: .timedOut, peer: self.peer,
                                                  message: "WebSocket handshake not complete within \(connectTimeoutMs) ms")))
        }
    }

    // MARK: EngineTransport

    func send(_ packet: EnginePacket) {
        guard phase == .open, let stream else { return }
        out.removeAll(keepingCapacity: true)
        var payload: [UInt8] = []
        let binary = EngineIOCodec.encode(packet, into: &payload)
        WebSocketFrameEncoder.encode(opcode: binary ? .binary : .text, payload: payload, maskKey: random.maskKey(), into: &out)
        stream.write(out)
    }

    func close() {
        switch phase {
        case .open:
            if state.close(code: 1000, reason: "") {
                out.removeAll(keepingCapacity: true)
                WebSocketFrameEncoder.encodeClose(code: 1000, maskKey: random.maskKey(), into: &out)
                stream?.write(out)
            }
            phase = .closing
            // The peer should answer with its close frame; don't wait forever.
            closeTimer = loop.schedule(afterMilliseconds: 2000) { [weak self] in self?.finish(nil) }
        case .connecting, .upgrading:
            finish(nil)
        case .closing, .closed:
            break
        }
    }

    func setReadingPaused(_ paused: Bool) {
        guard paused != readingPaused else { return }
        readingPaused = paused
        if paused {
            stream?.pauseReading()
            return
        }
        // Frames already parsed-out of earlier reads go first (on a later turn: the caller may be
        // inside a delivery), then the socket is read again unless that paused us once more.
        guard !resumeScheduled else { return }
        resumeScheduled = true
        loop.schedule(afterMilliseconds: 0) { [weak self] in
            guard let self else { return }
            self.resumeScheduled = false
            guard !self.readingPaused else { return }
            if self.phase == .open || self.phase == .closing { self.consume(UnsafeRawBufferPointer(start: nil, count: 0)) }
            guard !self.readingPaused else { return }
            if let closed = self.deferredClose {
                self.deferredClose = nil
                return self.streamClosed(closed)
            }
            self.stream?.resumeReading()
        }
    }

    func abort() {
        phase = .closed
        if let handshakeTimer { loop.cancel(handshakeTimer); self.handshakeTimer = nil }
        delegate = nil
        stream?.abort()
        stream = nil
    }

    // MARK: ByteStreamDelegate

    func streamDidConnect(_ s: ByteStream) {
        phase = .upgrading
        s.write(request.encoded())
    }

    func stream(_ s: ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .upgrading:
            do {
                guard let (head, rest) = try headParser.append(bytes) else { return }
                if head.status != 101 {
                    let reason = head.reason.isEmpty ? "" : " \(head.reason)"
                    finish(.httpStatus(peer: peer, status: head.status, detail: "\(reason) on the WebSocket upgrade of \(target)".trimmingWhitespace))
                    return
                }
                try request.validate(head)
                phase = .open
                if let handshakeTimer { loop.cancel(handshakeTimer); self.handshakeTimer = nil }
                delegate?.transportDidOpen(self)
                if !rest.isEmpty { rest.withUnsafeBytes { consume($0) } }
            } catch {
                finish(.handshake(peer: peer, detail: error.description))
            }
        case .open, .closing:
            consume(bytes)
        case .connecting, .closed:
            break
        }
    }

    func streamDidDrain(_ s: ByteStream) {}

    func stream(_ s: ByteStream, didClose error: TransportError?) {
        stream = nil
        // Paused with frames still unread: they were received, so they are delivered first; the
        // close is reported once the resume has consumed them.
        if readingPaused, phase == .open || phase == .closing, frames.bufferedByteCount > 0 {
            deferredClose = .some(error)
            return
        }
        streamClosed(error)
    }

    private func streamClosed(_ error: TransportError?) {
        if let error {
            finish(.transport(error))
        } else if phase == .closing {
            finish(nil)
        } else if phase == .upgrading || phase == .connecting {
            finish(.closedByServer(peer: peer, detail: "connection closed during the WebSocket upgrade"))
        } else {
            finish(.closedByServer(peer: peer, detail: "TCP connection closed without a WebSocket close"))
        }
    }

    // MARK: Frames

    private func consume(_ bytes: UnsafeRawBufferPointer) {
        frames.append(bytes)
        while (phase == .open || phase == .closing) && !readingPaused {
            let frame: WebSocketFrame?
            do { frame = try frames.next() } catch {
                protocolFailure(error.closeCode, error.description)
                return
            }
            guard let frame else { return }
            switch state.receive(frame) {
            case .text(let text):
                let packet: EnginePacket
                switch EngineIOCodec.decode(text: text) {
                case .success(let p): packet = p
                case .failure(let error):
                    protocolFailure(1002, "bad Engine.IO packet: \(error.description)")
                    return
                }
                delegate?.transport(self, didReceive: packet)
            case .binary(let bytes):
                delegate?.transport(self, didReceive: EngineIOCodec.decodeBinary(bytes))
            case .sendPong(let payload):
                // At most one pong waits unsent (RFC 6455 5.5.3 lets us answer only the latest
                // ping): a peer flooding pings without reading our pongs cannot grow our buffer.
                guard (stream?.pendingWriteBytes ?? 0) == 0 else { break }
                out.removeAll(keepingCapacity: true)
                WebSocketFrameEncoder.encode(opcode: .pong, payload: payload, maskKey: random.maskKey(), into: &out)
                stream?.write(out)
            case .pong:
                break
            case .sendClose(let code, let reason):
                out.removeAll(keepingCapacity: true)
                WebSocketFrameEncoder.encodeClose(code: code, reason: reason, maskKey: random.maskKey(), into: &out)
                stream?.write(out)
                stream?.close()
                let detail = code == 1005 ? "WebSocket close" : "WebSocket close \(code)" + (reason.isEmpty ? "" : " \(reason)")
                finish(phase == .closing ? nil : .closedByServer(peer: peer, detail: detail))
                return
            case .closed:
                stream?.close()
                finish(nil)
                return
            case .protocolError(let error):
                protocolFailure(error.closeCode, error.description)
                return
            case .nothing:
                break
            }
        }
    }

    private func protocolFailure(_ code: UInt16, _ detail: String) {
        out.removeAll(keepingCapacity: true)
        WebSocketFrameEncoder.encodeClose(code: code, maskKey: random.maskKey(), into: &out)
        stream?.write(out)
        stream?.close()
        finish(.protocolViolation(peer: peer, detail: detail))
    }

    private func finish(_ failure: ConnectionFailure?) {
        guard phase != .closed else { return }
        phase = .closed
        if let closeTimer { loop.cancel(closeTimer) }
        if let handshakeTimer { loop.cancel(handshakeTimer); self.handshakeTimer = nil }
        stream?.close()
        stream = nil
        let d = delegate
        delegate = nil
        d?.transport(self, didClose: failure)
    }
}
