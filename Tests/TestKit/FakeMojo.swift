import JSON
import Mojo
import Relay
import SocketIO
import Transport

/// A scripted MOJO server behind the `EngineTransport` seam: `TenantSession`s connect to it
/// without sockets, on a `VirtualClock`. It answers the Engine.IO handshake and the Socket.IO
/// CONNECT (or refuses it), sends events and pings when told, records every command the client
/// emits, and can kick or go silent, so reconnect backoff and ping timeouts are tested exactly.
public final class FakeMojo {
    /// A token literal with `sub = bridge_bot` (the session reads its claims, never verifies).
    public static let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJicmlkZ2VfYm90In0.c2ln"

    private let clock: VirtualClock
    /// The Engine.IO handshake values sent to each connection.
    public var pingInterval = 25_000
    public var pingTimeout = 20_000
    /// When set, connections fail at once with this failure (a refused TCP connect...).
    public var failConnections: ConnectionFailure?
    /// When set, the Socket.IO CONNECT is refused with this message (CONNECT_ERROR).
    public var refuseWith: String?
    /// Send pings every `pingInterval` (false: a silent server, for ping timeouts).
    public var pings = true
    /// Every transport made, oldest first.
    public private(set) var connections: [FakeEngineTransport] = []
    /// Virtual times (ms since the clock began) at which connections were attempted.
    public private(set) var attemptTimesMs: [Int] = []
    private var sids = 0

    public init(clock: VirtualClock) {
        self.clock = clock
    }

    /// A configuration for a session on this server (WebSocket only, the token literal).
    public static func configuration(tenant: String = "org_a") -> SessionConfiguration {
        // The URL is never dialled: the transport is this fake.
        var c = SessionConfiguration(url: try! ServerURL("http://mojo.invalid:1"), tenant: tenant, token: .literal(token))
        c.transport = .websocket
        return c
    }

    /// The transport maker to give a `TenantSession` (or a `Bridge`'s session maker).
    public var transports: TenantSession.TransportMaker {
        { [unowned self] session, _ in self.connect(session) }
    }

    /// A session on this server with its timers on the clock; `loop` is never run.
    public func session(configuration: SessionConfiguration? = nil, loop: EventLoop, delegate: TenantSessionDelegate?) -> TenantSession {
        TenantSession(configuration: configuration ?? Self.configuration(), loop: loop, scheduler: clock, transports: transports,
                      curl: nil, reaper: nil, logger: .quiet, delegate: delegate)
    }

    /// A `Bridge` session maker: every tenant's session on this server (token and transport
    /// replaced by the fake's), timers on the clock.
    public func sessionMaker(loop: EventLoop) -> Bridge.SessionMaker {
        { [unowned self] configuration, bridge in
            var c = configuration
            c.token = .literal(Self.token)
            c.transport = .websocket
            return self.session(configuration: c, loop: loop, delegate: bridge)
        }
    }

    /// The connections of one tenant (by the session configuration's tenant), oldest first.
    public func connections(tenant: String) -> [FakeEngineTransport] {
        connections.filter { $0.tenant == tenant }
    }

    /// The open connection (the last one, when it is still open).
    public var current: FakeEngineTransport? {
        connections.last.flatMap { $0.isOpen ? $0 : nil }
    }

    private func connect(_ session: TenantSession) -> EngineTransport {
        attemptTimesMs.append(clock.elapsedMs)
        let t = FakeEngineTransport(server: self, delegate: session, clock: clock)
        t.tenant = session.configuration.tenant
        connections.append(t)
        clock.schedule(afterMilliseconds: 0) { [weak self, weak t] in
            guard let self, let t else { return }
            if let failure = self.failConnections { return t.fail(failure) }
            t.open()
            self.sids += 1
            t.deliver(.open(EngineOpen(sid: "eio\(self.sids)", upgrades: [], pingInterval: self.pingInterval,
                                       pingTimeout: self.pingTimeout)))
            if self.pings { t.schedulePing(after: self.pingInterval) }
        }
        return t
    }

    /// A client packet arrived on `t`.
    func received(_ packet: EnginePacket, on t: FakeEngineTransport) {
        guard case .message(let bytes) = packet, let first = bytes.first else { return }
        switch first {
        case UInt8(ascii: "0"):
            if let refuseWith {
                t.deliver(.message(Array("4".utf8) + Array(JSONValue.object(JSONObject([("message", .string(refuseWith))])).serialized().utf8)))
            } else {
                t.connected = true
                t.deliver(.message(Array(#"0{"sid":"sio\#(sids)","pid":"p\#(sids)"}"#.utf8)))
            }
        case UInt8(ascii: "2"):
            guard let packet = try? SocketIOCodec.decode(bytes), let payload = packet.payload,
                  case .array(let args)? = try? JSONValue(parsing: payload), case .string(let name)? = args.first else { return }
            t.emitted.append(FakeEngineTransport.Emit(name: name, data: args.count > 1 ? args[1] : .null, ackId: packet.ackId))
        default:
            break
        }
    }
}

/// One connection to a `FakeMojo`.
public final class FakeEngineTransport: EngineTransport {
    /// A command the client emitted.
    public struct Emit {
        public var name: String
        public var data: JSONValue
        public var ackId: Int?
    }

    public let name = "websocket"
    /// The tenant of the session on this connection.
    public internal(set) var tenant: String?
    private weak var server: FakeMojo?
    private weak var delegate: EngineTransportDelegate?
    private let clock: VirtualClock
    private var pingTimer: TimerID?
    /// Every Engine.IO packet the client sent.
    public private(set) var sent: [EnginePacket] = []
    /// The Socket.IO events the client emitted.
    public internal(set) var emitted: [Emit] = []
    /// Whether the namespace was joined on this connection.
    public internal(set) var connected = false
    public private(set) var isOpen = false
    /// Pongs the client sent.
    public var pongs: Int { sent.filter { if case .pong = $0 { true } else { false } }.count }

    init(server: FakeMojo, delegate: EngineTransportDelegate, clock: VirtualClock) {
        self.server = server
        self.delegate = delegate
        self.clock = clock
    }

    func open() {
        isOpen = true
        delegate?.transportDidOpen(self)
    }

    func fail(_ failure: ConnectionFailure) {
        end()
        delegate?.transport(self, didClose: failure)
    }

    /// Hands the client one packet now.
    public func deliver(_ packet: EnginePacket) {
        guard isOpen else { return }
        delegate?.transport(self, didReceive: packet)
    }

    /// Sends a MOJO event (`42["name",data]`).
    public func sendEvent(_ name: String, _ data: JSONValue) {
        deliver(.message(Array(("2" + JSONValue.array([.string(name), data]).serialized()).utf8)))
    }

    /// Answers an emit that asked for an acknowledgement.
    public func ack(_ id: Int, _ data: JSONValue) {
        deliver(.message(Array(("3\(id)" + JSONValue.array([data]).serialized()).utf8)))
    }

    /// The server drops the connection (a kick, a network cut): the client hears a close.
    public func kick() {
        guard isOpen else { return }
        end()
        delegate?.transport(self, didClose: .closedByServer(peer: "mojo.invalid:1", detail: "kicked"))
    }

    /// The server stops sending anything (pings included) while the connection stays up.
    public func goSilent() {
        if let pingTimer { clock.cancel(pingTimer) }
        pingTimer = nil
    }

    func schedulePing(after ms: Int) {
        pingTimer = clock.schedule(afterMilliseconds: ms) { [weak self] in
            guard let self, self.isOpen else { return }
            self.deliver(.ping([]))
            self.schedulePing(after: ms)
        }
    }

    private func end() {
        isOpen = false
        goSilent()
    }

    public func send(_ packet: EnginePacket) {
        guard isOpen else { return }
        sent.append(packet)
        server?.received(packet, on: self)
    }

    public func close() {
        guard isOpen else { return }
        end()
        clock.schedule(afterMilliseconds: 0) { [weak self] in
            guard let self else { return }
            self.delegate?.transport(self, didClose: nil)
        }
    }

    public func abort() {
        end()
    }
}
