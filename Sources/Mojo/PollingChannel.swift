import Curl
import SocketIO
import Transport

/// The Engine.IO HTTP long-polling transport over libcurl: one GET and at most one POST in flight,
/// outgoing packets batched into one POST up to the server's maxPayload.
///
/// A GET response may hold any number of packets (a server flushes its whole buffer into one):
/// it is limited to ``maxResponseBytes`` as a whole, far above any burst, and each packet to
/// `maxMessageSize`, the limit of one WebSocket message. `close()` sends what is queued and the
/// Engine.IO close packet in one last POST (after the one in flight), so the server ends the
/// session at once instead of at its ping timeout.
final class PollingChannel: EngineTransport {
    let name = "polling"
    private enum Phase { case handshaking, open, pausing, paused, closing, closed }

    /// The largest polling response accepted: 64 MiB (or two messages of the largest size).
    static let minMaxResponseBytes = 64 << 20

    private weak var delegate: EngineTransportDelegate?
    private let curl: CurlMulti
    private let url: ServerURL
    private let tls: TLSConfiguration?
    private let requestTimeoutMs: Int
    private let peer: String
    private var phase = Phase.handshaking
    private(set) var sid: String?
    private var maxPayload = EngineOpen.defaultMaxPayload
    private var pollTimeoutMs = 60_000
    private var getInFlight: RequestID?
    private var postInFlight: RequestID?
    private var outbox: [EnginePacket] = []
    private var onPaused: (() -> Void)?
    /// Backpressure: no new GET while set (the events wait on the server).
    private var readingPaused = false
    private let maxMessageSize: Int

    /// Opens a polling session at `url` (the handshake GET).
    init(url: ServerURL, tls: TLSConfiguration?, requestTimeoutMs: Int, maxMessageSize: Int = 16 << 20,
         curl: CurlMulti, delegate: EngineTransportDelegate) {
        self.url = url
        self.maxMessageSize = maxMessageSize
        self.tls = tls
        self.curl = curl
        self.delegate = delegate
        self.requestTimeoutMs = requestTimeoutMs
        self.peer = url.hostHeader
        poll()
    }

    // MARK: EngineTransport

    func send(_ packet: EnginePacket) {
        guard phase == .open || phase == .pausing || phase == .handshaking else { return }
        outbox.append(packet)
        flush()
    }

    func close() {
        guard phase != .closed, phase != .closing else { return }
        let open = sid != nil && phase != .handshaking
        finish(nil)
        guard open else { return }
        // Tell the server: what is queued (a Socket.IO DISCONNECT) and the Engine.IO close, in
        // one POST after the one in flight (a second concurrent POST is refused by servers).
        if !outbox.contains(where: { if case .close = $0 { true } else { false } }) { outbox.append(.close) }
        phase = .closing
        flush()
    }

    func abort() {
        phase = .closed
        delegate = nil
        outbox.removeAll()
        if let g = getInFlight { curl.cancel(g) }
        if let p = postInFlight { curl.cancel(p) }
        getInFlight = nil
        postInFlight = nil
    }

    /// Stops polling for a WebSocket upgrade: `done` runs once the GET in flight has returned (its
    /// packets delivered) and no new one will be sent. Packets queued meanwhile stay for `drain()`.
    func pause(_ done: @escaping () -> Void) {
        guard phase == .open else { return }
        phase = .pausing
        onPaused = done
        if getInFlight == nil && postInFlight == nil { pausedNow() }
    }

    /// Hands over packets not yet sent (for the transport that replaces this one) and stops.
    func drainAndStop() -> [EnginePacket] {
        let pending = outbox
        outbox.removeAll()
        phase = .closed
        delegate = nil
        if let g = getInFlight { curl.cancel(g) }
        return pending
    }

    // MARK: Requests

    private func request(_ method: String, body: [UInt8] = []) -> HTTPRequest {
        var r = HTTPRequest(method: method, url: url.httpURL(transport: "polling", sid: sid))
        r.body = body
        if method == "POST" { r.headers = [("Content-Type", "text/plain;charset=UTF-8")] }
        r.timeoutMs = method == "GET" ? pollTimeoutMs : requestTimeoutMs
        r.connectTimeoutMs = requestTimeoutMs
        r.caFile = tls?.caFile
        r.verifyPeer = tls?.verifyPeer ?? true
        r.maxResponseBytes = method == "GET" ? max(PollingChannel.minMaxResponseBytes, 2 * maxMessageSize) : 1 << 20
        return r
    }

    func setReadingPaused(_ paused: Bool) {
        readingPaused = paused
        if !paused { poll() }
    }

    private func poll() {
        guard getInFlight == nil, !readingPaused, phase == .handshaking || phase == .open else { return }
        getInFlight = curl.perform(request("GET")) { [weak self] result in
            guard let self else { return }
            self.getInFlight = nil
            self.handleGet(result)
        }
    }

    private func handleGet(_ result: Result<HTTPResponse, HTTPError>) {
        guard phase != .closed else { return }
        let response: HTTPResponse
        switch result {
        case .failure(let e): return finish(.transport(TransportError(kind: e.isTimeout ? .timedOut : .io, peer: peer, message: e.description)))
        case .success(let r): response = r
        }
        guard response.status == 200 else {
            return finish(.httpStatus(peer: peer, status: response.status, detail: Self.excerpt(response.body)))
        }
        let packets: [EnginePacket]
        do throws(EngineIOError) { packets = try EngineIOCodec.decodePayload(response.body) } catch {
            return finish(.protocolViolation(peer: peer, detail: "bad polling payload: \(error.description)"))
        }
        if let big = packets.first(where: { EngineIOCodec.encodedSize($0) > maxMessageSize }) {
            return finish(.protocolViolation(peer: peer, detail: "polling packet of \(EngineIOCodec.encodedSize(big)) bytes over the limit of \(maxMessageSize)"))
        }
        if phase == .handshaking {
            guard case .open(let open)? = packets.first else {
                return finish(.protocolViolation(peer: peer, detail: "the first polling response is not an Engine.IO open packet"))
            }
            sid = open.sid
            maxPayload = open.maxPayload
            pollTimeoutMs = open.pingInterval + open.pingTimeout + requestTimeoutMs
            phase = .open
            delegate?.transportDidOpen(self)
        }
        for p in packets {
            if case .close = p { return finish(.closedByServer(peer: peer, detail: "Engine.IO close packet")) }
            delegate?.transport(self, didReceive: p)
            if phase == .closed { return }
        }
        if phase == .pausing {
            if postInFlight == nil { pausedNow() }
            return
        }
        flush()
        poll()
    }

    private func flush() {
        guard postInFlight == nil, sid != nil, phase == .open || phase == .pausing || phase == .closing, !outbox.isEmpty else { return }
        // Batch as many packets as fit in maxPayload; always at least one (an oversized one is
        // refused above this layer).
        var count = 0
        var size = 0
        for p in outbox {
            let s = EngineIOCodec.encodedSize(p) + 1
            if count > 0 && size + s > maxPayload { break }
            size += s
            count += 1
        }
        var body: [UInt8] = []
        body.reserveCapacity(size)
        EngineIOCodec.encodePayload(Array(outbox.prefix(count)), into: &body)
        outbox.removeFirst(count)
        // Strong: a closing channel has no owner left and lives until its goodbye is posted.
        postInFlight = curl.perform(request("POST", body: body)) { [self] result in
            self.postInFlight = nil
            if self.phase == .closing {
                if case .success(let r) = result, r.status == 200, !self.outbox.isEmpty { return self.flush() }
                self.outbox.removeAll()
                self.phase = .closed
                return
            }
            switch result {
            case .failure(let e):
                self.finish(.transport(TransportError(kind: e.isTimeout ? .timedOut : .io, peer: self.peer, message: e.description)))
            case .success(let r) where r.status != 200:
                self.finish(.httpStatus(peer: self.peer, status: r.status, detail: Self.excerpt(r.body)))
            case .success:
                if self.phase == .pausing && self.getInFlight == nil { self.pausedNow() } else { self.flush() }
            }
        }
    }

    private func pausedNow() {
        phase = .paused
        let done = onPaused
        onPaused = nil
        done?()
    }

    private func finish(_ failure: ConnectionFailure?) {
        guard phase != .closed else { return }
        phase = .closed
        if let g = getInFlight { curl.cancel(g) }
        getInFlight = nil
        let d = delegate
        delegate = nil
        d?.transport(self, didClose: failure)
    }

    private static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return String(text.map { $0.isNewline ? " " : $0 })
    }
}

extension HTTPError {
    /// CURLE_OPERATION_TIMEDOUT (28).
    var isTimeout: Bool { code == 28 }
}
