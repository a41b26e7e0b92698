extension EngineIOClientState {
    /// Whether the open session is on polling and the server offers `websocket`.
    public var canUpgrade: Bool {
        guard let open = handshake, transport == .polling, upgrade == .idle else { return false }
        return open.upgrades.contains("websocket")
    }

    /// Begins the upgrade: once the new WebSocket (same `sid`) is open, send the returned probe on it.
    public mutating func startUpgrade() -> UpgradeAction {
        guard canUpgrade else { return .failed("no upgrade possible (not open on polling, busy, or not offered)") }
        upgrade = .probing
        return .sendProbe(.ping(Array("probe".utf8)))
    }

    /// Takes a packet received on the probe transport during the upgrade.
    public mutating func receivedOnProbe(_ packet: EnginePacket, now: MonotonicInstant) -> UpgradeAction {
        guard upgrade == .probing else { return .failed("no probe in flight") }
        if case .pong(let payload) = packet, payload == Array("probe".utf8) {
            upgrade = .pausing
            return .pausePolling
        }
        if case .noop = packet { return .failed("probe answered with noop") }
        upgrade = .idle
        return .failed("probe answered with \(packet.kindName)")
    }

    /// Polling is paused (no request in flight): send the returned `5` on the new transport,
    /// which now carries the session.
    public mutating func pollingPaused() -> UpgradeAction {
        guard upgrade == .pausing, !isClosed else {
            upgrade = .idle
            return .failed("polling paused while no upgrade was pending")
        }
        upgrade = .idle
        transport = .websocket
        return .sendUpgrade(.upgrade)
    }

    /// The probe transport failed or timed out; polling continues.
    public mutating func probeFailed() {
        upgrade = .idle
    }
}

extension EnginePacket {
    /// A short name for messages: `open`, `ping`, `message`, ….
    public var kindName: String {
        switch self {
        case .open: return "open"
        case .close: return "close"
        case .ping: return "ping"
        case .pong: return "pong"
        case .message: return "message"
        case .binary: return "binary"
        case .upgrade: return "upgrade"
        case .noop: return "noop"
        }
    }
}
