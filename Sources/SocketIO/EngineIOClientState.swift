/// The client side of one Engine.IO v4 session, as a pure state machine.
///
/// The driver feeds it what the transport delivers and performs the actions it returns;
/// nothing here reads a clock or touches a socket. Liveness: the server pings, the client
/// answers; the session is dead when nothing arrives for `pingInterval + pingTimeout`. Call
/// ``checkLiveness(now:)`` when the timer at ``deadline`` fires and (``send(_:now:)`` does it)
/// before every send, because timers can fire late.
///
/// Upgrade (polling -> websocket): ``startUpgrade()`` gives the probe to send on the new
/// transport; feed that transport's packets to ``receivedOnProbe(_:now:)``; on `3probe` it
/// asks the driver to pause polling; once paused, ``pollingPaused()`` gives the `5` to send
/// on the new transport, which becomes the session's transport.
public struct EngineIOClientState: Sendable {
    /// The transports of Engine.IO.
    public enum Transport: Sendable, Equatable {
        /// HTTP long-polling.
        case polling
        /// WebSocket.
        case websocket
    }

    /// What the driver does after a received packet.
    public enum ReceiveAction: Sendable, Equatable {
        /// The handshake arrived: start the Socket.IO layer (and an upgrade, if wanted).
        case opened(EngineOpen)
        /// Send this packet (the pong answering a ping).
        case send(EnginePacket)
        /// A text message for the Socket.IO layer.
        case message([UInt8])
        /// A binary message for the Socket.IO layer.
        case binary([UInt8])
        /// The server closed the session (Engine.IO `1`): close the transport.
        case closed
        /// Nothing to do (noop, pong, or anything after close).
        case none
        /// The server broke the protocol (for example a second open): close the transport.
        case protocolError(String)
    }

    /// The liveness verdict.
    public enum Liveness: Sendable, Equatable {
        /// Alive; check again at this instant.
        case alive(until: MonotonicInstant)
        /// Nothing arrived in time: close the transport with ``DisconnectReason/pingTimeout``.
        case dead
    }

    /// The verdict on an outgoing packet.
    public enum SendAction: Sendable, Equatable {
        /// Write this packet to the transport.
        case send(EnginePacket)
        /// Not sent: the packet is too large, or the session is not open.
        case refused(EngineIOError)
        /// Not sent: the session just turned out to be dead (see ``Liveness/dead``).
        case dead
    }

    /// What the driver does during an upgrade.
    public enum UpgradeAction: Sendable, Equatable {
        /// Send this packet (`2probe`) on the new transport.
        case sendProbe(EnginePacket)
        /// The probe succeeded: pause polling (let in-flight requests finish), then call ``pollingPaused()``.
        case pausePolling
        /// Send this packet (`5`) on the new transport; from now on it is the session's transport.
        case sendUpgrade(EnginePacket)
        /// The upgrade failed: close the new transport and keep polling.
        case failed(String)
    }

    private enum Phase: Sendable {
        case awaitingOpen(deadline: MonotonicInstant)
        case open(EngineOpen)
        case closed
    }

    enum Upgrade: Sendable {
        case idle, probing, pausing
    }

    private var phase: Phase
    /// Where the upgrade flow stands (see EngineIOClientState+Upgrade.swift).
    var upgrade: Upgrade = .idle
    private var lastReceived: MonotonicInstant

    /// The transport currently carrying the session.
    public internal(set) var transport: Transport

    /// A session whose transport just opened at `now`; the open packet must arrive within
    /// `handshakeTimeout` milliseconds.
    public init(transport: Transport, now: MonotonicInstant, handshakeTimeout: Int = 20_000) {
        self.transport = transport
        self.phase = .awaitingOpen(deadline: now.advanced(byMilliseconds: handshakeTimeout))
        self.lastReceived = now
    }

    /// Milliseconds since the last packet arrived (or the transport opened), at `now`: the
    /// silence a ping timeout reports.
    public func silenceMilliseconds(now: MonotonicInstant) -> Int {
        now > lastReceived ? Int((now.nanoseconds - lastReceived.nanoseconds) / 1_000_000) : 0
    }

    /// The handshake data, once open.
    public var handshake: EngineOpen? {
        if case .open(let open) = phase { return open }
        return nil
    }

    /// Whether the session has been closed (by either side or by a liveness failure).
    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// When the session is dead unless something arrives first; `nil` once closed.
    public var deadline: MonotonicInstant? {
        switch phase {
        case .awaitingOpen(let deadline): return deadline
        case .open(let open): return lastReceived.advanced(byMilliseconds: open.pingInterval + open.pingTimeout)
        case .closed: return nil
        }
    }

    /// Takes a packet received on the session's transport at `now`.
    public mutating func received(_ packet: EnginePacket, now: MonotonicInstant) -> ReceiveAction {
        switch phase {
        case .closed:
            return .none
        case .awaitingOpen:
            guard case .open(let open) = packet else {
                if case .noop = packet { return .none }
                phase = .closed
                return .protocolError("expected the open packet, got \(packet.kindName)")
            }
            phase = .open(open)
            lastReceived = now
            return .opened(open)
        case .open:
            lastReceived = max(lastReceived, now)
            switch packet {
            case .ping(let payload): return .send(.pong(payload))
            case .message(let bytes): return .message(bytes)
            case .binary(let bytes): return .binary(bytes)
            case .close:
                phase = .closed
                return .closed
            case .pong, .noop: return .none
            case .open, .upgrade:
                phase = .closed
                return .protocolError("unexpected \(packet.kindName) packet in an open session")
            }
        }
    }

    /// The silence until `now` does not count against the server: the driver was not reading
    /// (backpressure), so it could not have seen the server's pings. No effect unless open.
    public mutating func excuseSilence(now: MonotonicInstant) {
        guard case .open = phase else { return }
        lastReceived = max(lastReceived, now)
    }

    /// Decides whether the session is still alive at `now`; a dead session is closed.
    public mutating func checkLiveness(now: MonotonicInstant) -> Liveness {
        guard let deadline else { return .dead }
        if now >= deadline {
            phase = .closed
            return .dead
        }
        return .alive(until: deadline)
    }

    /// Checks liveness and `maxPayload`, then lets `packet` go out.
    public mutating func send(_ packet: EnginePacket, now: MonotonicInstant) -> SendAction {
        guard case .open(let open) = phase else {
            if case .awaitingOpen = phase, checkLiveness(now: now) == .dead { return .dead }
            return .refused(.notOpen)
        }
        guard checkLiveness(now: now) != .dead else { return .dead }
        let size = EngineIOCodec.encodedSize(packet)
        guard size <= open.maxPayload else { return .refused(.payloadTooLarge(size: size, maxPayload: open.maxPayload)) }
        return .send(packet)
    }

    /// The driver closes the session itself (sends `1` if the transport is still up, then closes it).
    public mutating func close() -> EnginePacket? {
        guard case .open = phase else {
            phase = .closed
            return nil
        }
        phase = .closed
        return .close
    }

    /// The transport went away; the session is over.
    public mutating func transportClosed() {
        phase = .closed
        upgrade = .idle
    }
}
