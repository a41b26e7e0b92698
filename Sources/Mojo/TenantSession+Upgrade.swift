import SocketIO

extension TenantSession {
    /// Polling is open and the server offers WebSocket: open a WebSocket with the same sid and probe it.
    func startProbe(_ open: EngineOpen) {
        do {
            probe = try WebSocketChannel(url: configuration.url, target: configuration.url.target(transport: "websocket", sid: open.sid),
                                         tls: tlsIfSecure, maxMessageSize: configuration.maxMessageSize,
                                         connectTimeoutMs: configuration.connectTimeoutMs,
                                         maxPendingWriteBytes: configuration.maxPendingWriteBytes, loop: loop, delegate: self)
        } catch {
            log.info("WebSocket upgrade not attempted", [("reason", error.description)])
        }
    }

    func upgrade(_ action: EngineIOClientState.UpgradeAction) {
        switch action {
        case .sendProbe(let p):
            probe?.send(p)
        case .pausePolling:
            guard let polling = transport as? PollingChannel else { return }
            polling.pause { [weak self] in
                guard let self, let action = self.engine?.pollingPaused() else { return }
                self.upgrade(action)
            }
        case .sendUpgrade(let p):
            guard let ws = probe, let polling = transport as? PollingChannel else { return }
            ws.send(p)
            let pending = polling.drainAndStop()
            probe = nil
            transport = ws
            if isReadingPaused { ws.setReadingPaused(true) }
            for packet in pending { ws.send(packet) }
            log.info("upgraded to WebSocket")
        case .failed(let why):
            log.info("WebSocket upgrade failed; staying on polling", [("reason", why)])
            probe?.abort()
            probe = nil
        }
    }
}
