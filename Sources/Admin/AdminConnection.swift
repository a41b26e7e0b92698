import HTTP
import Transport

/// One client of the admin server: parses requests, hands them to the handler one at a time,
/// writes the responses in order, and enforces the timeouts of `AdminLimits`.
///
/// Timers: idle (no request under way), request (from the first byte of a request until it is
/// whole: slowloris), response (the handler's deadline). Exactly one is armed at a time.
final class AdminConnection: ServerConnectionDelegate {
    private enum Phase: Equatable {
        case idle, receiving, responding, closing
    }

    private let connection: ServerConnection
    private weak var server: AdminServer?
    private let limits: AdminLimits
    private var parser: HTTPRequestParser
    private var phase: Phase = .idle
    private var timer: TimerID?
    /// The request the handler owes a response for, identified so late or repeated calls are ignored.
    private var inFlight: (serial: Int, head: HTTPRequestHead)?
    private var serial = 0
    private var continueSent = false
    private var processing = false
    private var needsProcessing = false

    init(connection: ServerConnection, server: AdminServer) {
        self.connection = connection
        self.server = server
        self.limits = server.limits
        parser = HTTPRequestParser(limits: .init(maxHeadBytes: limits.maxHeadBytes, maxBodyBytes: limits.maxBodyBytes))
    }

    func start() {
        connection.start(delegate: self)
        arm(limits.idleTimeoutMs) { $0.closeQuietly() }
    }

    /// Accept order, for shedding the oldest first.
    var acceptSerial = 0

    /// Whether the connection may be dropped to make room for a new one: it is idle or still
    /// sending its request (slow or silent), not waiting for or receiving a response.
    var isSheddable: Bool { phase == .idle || phase == .receiving }

    func abort() {
        phase = .closing
        cancelTimer()
        connection.abort()
    }

    func connection(_ connection: ServerConnection, didRead bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        process()
    }

    func connection(_ connection: ServerConnection, didClose error: TransportError?) {
        phase = .closing
        inFlight = nil
        cancelTimer()
        server?.connectionDidClose(self)
    }

    /// Runs `step` until it makes no more progress; re-entrant calls (a handler responding
    /// synchronously) are folded into the running loop instead of recursing.
    private func process() {
        if processing {
            needsProcessing = true
            return
        }
        processing = true
        defer { processing = false }
        repeat {
            needsProcessing = false
            step()
        } while needsProcessing
    }

    private func step() {
        guard phase == .idle || phase == .receiving else { return }
        let request: HTTPServerRequest?
        do {
            request = try parser.next()
        } catch {
            return fail(error.status, error.description)
        }
        guard let request else {
            if let head = parser.pendingHead, head.expectsContinue, !continueSent {
                continueSent = true
                connection.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
            if parser.hasPartialRequest, phase == .idle {
                phase = .receiving
                arm(limits.requestTimeoutMs) { $0.fail(408, "request not received in time") }
            }
            return
        }
        continueSent = false
        serial += 1
        let id = serial
        inFlight = (id, request.head)
        phase = .responding
        connection.pauseReading()
        arm(limits.responseTimeoutMs) { $0.fail(503, "no response in time") }
        let respond: (HTTPServerResponse) -> Void = { [weak self] response in self?.respond(id, response) }
        guard let server else { return respond(.jsonError(503, "server closing")) }
        server.dispatch(request, peer: connection.peerDescription, respond: respond)
    }

    private func respond(_ id: Int, _ given: HTTPServerResponse) {
        guard phase == .responding, let current = inFlight, current.serial == id else { return }
        inFlight = nil
        let head = current.head
        var response = given
        if response.status == 404, head.path == "/healthz", head.method == "GET" || head.method == "HEAD" {
            response = .healthy
        }
        var keepAlive = head.keepAlive && server?.isClosed == false
            && !(response.header("Connection").map { $0.lowercased().contains("close") } ?? false)
        var out: [UInt8] = []
        do {
            try response.encode(into: &out, closeConnection: !keepAlive, omitBody: head.method == "HEAD")
        } catch {
            server?.logger?.error("admin handler produced an invalid response", [("error", "\(error)"), ("path", head.path)])
            out.removeAll()
            keepAlive = false
            try? HTTPServerResponse.jsonError(500, "invalid response").encode(into: &out, closeConnection: true)
        }
        connection.write(out)
        guard keepAlive else { return closeQuietly() }
        phase = .idle
        arm(limits.idleTimeoutMs) { $0.closeQuietly() }
        connection.resumeReading()
        process()
    }

    /// Answers `status` with `{"error": message}` and closes (a request that cannot be served).
    private func fail(_ status: Int, _ message: String) {
        inFlight = nil
        var out: [UInt8] = []
        try? HTTPServerResponse.jsonError(status, message).encode(into: &out, closeConnection: true)
        connection.write(out)
        closeQuietly()
    }

    private func closeQuietly() {
        phase = .closing
        cancelTimer()
        connection.close()
    }

    private func arm(_ milliseconds: Int, _ action: @escaping (AdminConnection) -> Void) {
        cancelTimer()
        guard let loop = server?.loop else { return }
        timer = loop.schedule(afterMilliseconds: milliseconds) { [weak self] in
            guard let self else { return }
            timer = nil
            action(self)
        }
    }

    private func cancelTimer() {
        if let timer { server?.loop.cancel(timer) }
        timer = nil
    }
}
