import JSON

/// The client side of one Socket.IO v5 namespace, as a pure state machine (see
/// ``SocketIOClientAction`` for its outputs). It survives reconnections: the ack counter,
/// the send buffer and the recovery state (`pid`, last offset) carry over.
///
/// Recovery: the CONNECT reply's `pid` and the last offset (the last argument of each server
/// EVENT without ack id, while a `pid` is known) are kept; a reconnect sends them in the
/// CONNECT auth; events arriving before the CONNECT reply (the server's replay) are held and
/// delivered right after ``SocketIOClientAction/connected(sid:recovered:)``.
///
/// Buffer: emits made while not connected are queued, encoded, up to ``Configuration/bufferLimit``;
/// when full, ``BufferPolicy/dropOldest`` discards the oldest (counted in ``droppedEmits``, its
/// ack cancelled) and ``BufferPolicy/refuseNewest`` refuses the new emit.
public struct SocketIOClientState: Sendable {
    /// What to do with an emit when the buffer is full.
    public enum BufferPolicy: Sendable, Equatable {
        /// Discard the oldest buffered emit (counted in ``SocketIOClientState/droppedEmits``).
        case dropOldest
        /// Refuse the new emit (``SocketIOEmitResult/Status/refused``).
        case refuseNewest
    }

    /// Tunables.
    public struct Configuration: Sendable, Equatable {
        /// The namespace to join.
        public var namespace: String = "/"
        /// Whether to attempt connection state recovery on reconnect.
        public var recovery: Bool = true
        /// The most emits buffered while not connected.
        public var bufferLimit: Int = 1000
        /// What to do when the buffer is full.
        public var bufferPolicy: BufferPolicy = .dropOldest
        /// Milliseconds an emit waits for its ack; `nil` waits forever.
        public var ackTimeout: Int? = 10_000
        /// Milliseconds to wait for the CONNECT reply (socket.io-client's `timeout`).
        public var connectTimeout: Int = 20_000
        /// The most events held before the CONNECT reply (older ones are dropped beyond it).
        public var heldEventLimit: Int = 10_000

        /// The defaults, for `namespace`.
        public init(namespace: String = "/", recovery: Bool = true) {
            self.namespace = namespace
            self.recovery = recovery
        }
    }

    /// Where the namespace stands.
    public enum Phase: Sendable, Equatable {
        /// No transport, or the join failed or ended.
        case disconnected
        /// CONNECT sent, reply awaited.
        case connecting
        /// Joined, with the server's socket id.
        case connected(sid: String)
    }

    struct Buffered: Sendable {
        var bytes: [UInt8]
        var ackId: Int?
    }

    /// The configuration in use.
    public let configuration: Configuration
    /// Where the namespace stands.
    public internal(set) var phase: Phase = .disconnected
    /// The recovery session id from the last CONNECT reply, if the server offers recovery.
    public internal(set) var pid: String?
    /// The offset of the last server event received while a `pid` was known.
    public internal(set) var offset: String?
    /// How many buffered emits were discarded under ``BufferPolicy/dropOldest``.
    public internal(set) var droppedEmits = 0
    /// How many early events were discarded beyond ``Configuration/heldEventLimit``.
    public internal(set) var droppedHeldEvents = 0

    var nextAckId = 0
    var buffer: [Buffered] = []
    var bufferHead = 0
    var held: [(SocketPacket, [Range<Int>])] = []
    /// Ack ids awaited, with their deadline (`nil`: none) and whether the packet went out.
    var pendingAcks: [Int: (deadline: MonotonicInstant?, sent: Bool)] = [:]
    var sentPid: String?
    var reassembler = BinaryReassembler()
    var connectDeadline: MonotonicInstant?

    /// A state machine for `namespace` with default tunables.
    public init(namespace: String = "/", recovery: Bool = true) {
        self.init(configuration: Configuration(namespace: namespace, recovery: recovery))
    }

    /// A state machine with explicit tunables.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The number of emits waiting for a connection.
    public var bufferedCount: Int { buffer.count - bufferHead }

    /// The ack ids still awaited, ascending.
    public var pendingAckIds: [Int] { pendingAcks.keys.sorted() }

    /// The Engine.IO session opened: send CONNECT. `auth` is evaluated fresh by the driver on
    /// every attempt (a new token); `pid` and `offset` are added when recovery is possible.
    public mutating func transportOpened(_ open: EngineOpen, auth: JSONObject, now: MonotonicInstant) -> [SocketIOClientAction] {
        var payload = auth
        sentPid = nil
        if configuration.recovery, let pid, let offset {
            payload["pid"] = .string(pid)
            payload["offset"] = .string(offset)
            sentPid = pid
        }
        var bytes: [UInt8] = []
        SocketIOCodec.encode(SocketPacket(type: .connect, namespace: configuration.namespace), into: &bytes)
        if !payload.isEmpty { JSONValue.object(payload).serialize(into: &bytes) }
        phase = .connecting
        held = []
        let deadline = now.advanced(byMilliseconds: configuration.connectTimeout)
        connectDeadline = deadline
        return [.send(bytes), .armTimer(.connect, deadline: deadline)]
    }

    /// The driver leaves on purpose: sends DISCONNECT if joined or joining. The session cannot
    /// be recovered afterwards.
    public mutating func disconnect() -> [SocketIOClientAction] {
        guard phase != .disconnected else { return [] }
        var actions: [SocketIOClientAction] = [.send(SocketIOCodec.encode(SocketPacket(type: .disconnect, namespace: configuration.namespace)))]
        actions += end(.clientDisconnect)
        return actions
    }

    /// The transport closed (or the Engine.IO layer declared it dead) for `reason`.
    public mutating func transportClosed(_ reason: DisconnectReason) -> [SocketIOClientAction] {
        guard phase != .disconnected else { return [] }
        return end(reason)
    }

    /// Leaves the current session: cancels acks of packets that went out, forgets the recovery
    /// state when the session cannot be recovered, reports the reason.
    mutating func end(_ reason: DisconnectReason) -> [SocketIOClientAction] {
        phase = .disconnected
        connectDeadline = nil
        held = []
        reassembler.reset()
        if !reason.allowsRecovery {
            pid = nil
            offset = nil
        }
        var actions: [SocketIOClientAction] = []
        for (id, entry) in pendingAcks.sorted(by: { $0.key < $1.key }) where entry.sent {
            pendingAcks[id] = nil
            actions.append(.ackCancelled(id: id))
        }
        actions.append(.disconnected(reason))
        return actions
    }

    /// A timer armed by an ``SocketIOClientAction/armTimer(_:deadline:)`` fired at `now`
    /// (early or stale firings are harmless).
    public mutating func timerFired(_ timer: SocketIOTimer, now: MonotonicInstant) -> [SocketIOClientAction] {
        switch timer {
        case .connect:
            guard phase == .connecting, let deadline = connectDeadline else { return [] }
            guard now >= deadline else { return [.armTimer(.connect, deadline: deadline)] }
            phase = .disconnected
            connectDeadline = nil
            held = []
            return [.connectTimedOut]
        case .ack(let id):
            guard let entry = pendingAcks[id], let deadline = entry.deadline else { return [] }
            guard now >= deadline else { return [.armTimer(.ack(id), deadline: deadline)] }
            pendingAcks[id] = nil
            return [.ackTimedOut(id: id)]
        }
    }

    /// Times out every ack due by `now` (for drivers that sweep instead of arming one timer per ack).
    public mutating func expireAcks(now: MonotonicInstant) -> [SocketIOClientAction] {
        var actions: [SocketIOClientAction] = []
        for (id, entry) in pendingAcks.sorted(by: { $0.key < $1.key }) {
            if let deadline = entry.deadline, now >= deadline {
                pendingAcks[id] = nil
                actions.append(.ackTimedOut(id: id))
            }
        }
        return actions
    }
}
