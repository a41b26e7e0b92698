import Diagnostics
import HTTP
import Transport

/// The admin HTTP/1.1 server (health, readiness, metrics, inbound commands), on an `EventLoop`.
///
/// Loop-thread only: created, used and closed on the loop's thread, and the handler is called
/// there. Listening starts in `init`. Each connection is kept alive between requests, handled
/// one request at a time (pipelined requests wait their turn, so responses keep request order),
/// and bounded by `AdminLimits`. Malformed requests get a small JSON error (400, 413, 431, 501,
/// 505) and the connection is closed; nothing a client sends can stop the server.
///
/// Built in: when the handler answers `GET /healthz` with 404, the server answers 200
/// `{"status":"ok"}` instead, so liveness works with any handler.
public final class AdminServer {
    /// The loop the server runs on.
    public let loop: EventLoop
    /// The bounds applied to every connection.
    public let limits: AdminLimits
    private var handler: AdminHandler?
    let logger: Logger?
    private var listener: TCPListener?
    private var connections: [ObjectIdentifier: AdminConnection] = [:]

    /// The bound port (the kernel's choice when the address asked for port 0).
    public let port: Int
    /// Idle or slow connections dropped, oldest first, to make room for a new one at the limit.
    public private(set) var shedConnections = 0
    private var acceptSerial = 0
    /// Connections closed at accept time because `maxConnections` were open.
    public private(set) var rejectedConnections = 0
    /// Whether `close()` was called.
    public private(set) var isClosed = false

    /// Starts listening on `listen`, `"host:port"` (`"127.0.0.1:9090"`, `"[::1]:9090"`,
    /// `"localhost:0"`). The handler is held strongly until `close()`.
    public init(listen address: String, loop: EventLoop, limits: AdminLimits = AdminLimits(),
                handler: AdminHandler, logger: Logger? = nil) throws(AdminServerError) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65_535).contains(port), colon != address.startIndex else {
            throw .invalidListenAddress(address)
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.loop = loop
        self.limits = limits
        self.handler = handler
        self.logger = logger
        let accepted = AcceptRelay()
        do {
            let listener = try TCPListener.listen(host: host, port: port, on: loop, acceptError: { [logger] error in
                logger?.warn("admin server accept failed", [("error", error.description)])
            }, accept: { connection in accepted.target?.accept(connection) })
            self.listener = listener
            self.port = listener.port
        } catch {
            throw .listenFailed(error)
        }
        accepted.target = self
    }

    /// Number of connections being served.
    public var connectionCount: Int { connections.count }

    /// Stops listening, drops every connection at once and releases the handler. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        listener?.close()
        listener = nil
        handler = nil
        let open = connections.values
        connections = [:]
        for connection in open { connection.abort() }
    }

    private func accept(_ connection: ServerConnection) {
        // At the limit, the oldest idle or slow connection makes room: a flood of idle
        // connections cannot lock out a liveness probe (it only gets its own oldest shed).
        if !isClosed, connections.count >= limits.maxConnections,
           let oldest = connections.values.filter(\.isSheddable).min(by: { $0.acceptSerial < $1.acceptSerial }) {
            connections[ObjectIdentifier(oldest)] = nil
            oldest.abort()
            shedConnections += 1
        }
        guard !isClosed, connections.count < limits.maxConnections else {
            rejectedConnections += 1
            logger?.warn("admin server at its connection limit; connection refused",
                         [("peer", connection.peerDescription), ("limit", String(limits.maxConnections))])
            connection.abort()
            return
        }
        let admin = AdminConnection(connection: connection, server: self)
        acceptSerial += 1
        admin.acceptSerial = acceptSerial
        connections[ObjectIdentifier(admin)] = admin
        admin.start()
    }

    /// Hands a parsed request to the handler (503 once the server is closed).
    func dispatch(_ request: HTTPServerRequest, peer: String, respond: @escaping (HTTPServerResponse) -> Void) {
        guard let handler else { return respond(.jsonError(503, "server closing")) }
        handler.handle(request, peer: peer, respond: respond)
    }

    /// Forgets a connection that closed.
    func connectionDidClose(_ connection: AdminConnection) {
        connections[ObjectIdentifier(connection)] = nil
    }

    /// Breaks the reference cycle listener -> accept closure -> server: the closure holds this
    /// box, the box holds the server weakly.
    private final class AcceptRelay {
        weak var target: AdminServer?
    }
}

/// Why the admin server could not start.
public enum AdminServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The listen address is not `host:port` with a port in 0...65535.
    case invalidListenAddress(String)
    /// The socket could not be bound or listened on (address in use, not a local address, ...).
    case listenFailed(TransportError)

    /// A message for the operator.
    public var description: String {
        switch self {
        case .invalidListenAddress(let address): return "invalid admin listen address \"\(address)\" (expected host:port)"
        case .listenFailed(let error): return "admin server cannot listen: \(error)"
        }
    }
}
