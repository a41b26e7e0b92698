import JSON
import SocketIO
import Transport

extension TenantSession: EngineTransportDelegate {
    public func transportDidOpen(_ t: EngineTransport) {
        if t === probe, let action = engine?.startUpgrade() { return upgrade(action) }
    }

    public func transport(_ t: EngineTransport, didReceive packet: EnginePacket) {
        if t === probe {
            guard let action = engine?.receivedOnProbe(packet, now: now) else { return }
            return upgrade(action)
        }
        guard t === transport, var e = engine else { return }
        let action = e.received(packet, now: now)
        engine = e
        switch action {
        case .opened(let open):
            armLiveness()
            var auth = JSONObject()
            if let token = currentToken { auth["token"] = .string(token.value) }
            if let tenant = configuration.tenant { auth["tenantId"] = .string(tenant) }
            perform(sio.transportOpened(open, auth: auth, now: now))
            if configuration.transport != .polling, engine?.canUpgrade == true { startProbe(open) }
        case .send(let p):
            send(p)
        case .message(let bytes):
            do { perform(try sio.received(message: bytes, now: now)) } catch {
                disconnected(.parseError(error.description), .protocolViolation(peer: configuration.url.hostHeader, detail: "bad Socket.IO packet: \(error.description)"))
            }
        case .binary(let bytes):
            do { perform(try sio.received(binary: bytes, now: now)) } catch {
                disconnected(.parseError(error.description), .protocolViolation(peer: configuration.url.hostHeader, detail: "bad binary attachment: \(error.description)"))
            }
        case .closed:
            disconnected(.transportClose, .closedByServer(peer: configuration.url.hostHeader, detail: "Engine.IO close"))
        case .none:
            break
        case .protocolError(let detail):
            disconnected(.parseError(detail), .protocolViolation(peer: configuration.url.hostHeader, detail: detail))
        }
    }

    public func transport(_ t: EngineTransport, didClose failure: ConnectionFailure?) {
        if t === probe {
            probe = nil
            engine?.probeFailed()
            log.info("WebSocket upgrade failed; staying on polling", [("reason", failure?.description ?? "closed")])
            return
        }
        guard t === transport else { return }
        transport = nil
        let f = failure ?? .closedByServer(peer: configuration.url.hostHeader, detail: "connection closed")
        // A WebSocket that could not even be upgraded: in auto mode, try polling at once.
        if configuration.transport == .auto, !usePollingThisAttempt, engine?.handshake == nil, Self.isUpgradeFailure(f) {
            log.warn("WebSocket upgrade failed; falling back to HTTP long-polling", [("reason", f.description)])
            usePollingThisAttempt = true
            teardownTransport()
            return attempt()
        }
        disconnected(failure == nil ? .transportClose : .transportError(f.description), f)
    }

    static func isUpgradeFailure(_ f: ConnectionFailure) -> Bool {
        switch f {
        case .httpStatus(_, let status, _): status != 401 && status != 403
        case .handshake: true
        case .closedByServer: true
        default: false
        }
    }

    /// The Socket.IO session is over for `reason`; `failure` says why for the operator.
    func disconnected(_ reason: DisconnectReason, _ failure: ConnectionFailure) {
        engine?.transportClosed()
        perform(sio.transportClosed(reason))
        failed(failure)
    }

    // MARK: Actions

    func perform(_ actions: [SocketIOClientAction]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                send(.message(bytes))
            case .connected(let sid, let recovered):
                blamePauseUntil = nil
                failedAttempts = 0
                backoff.reset()
                authBackoff.reset()
                if everConnected { reconnects += 1 }
                everConnected = true
                lastFailure = nil
                log.info(recovered ? "connected (session recovered)" : "connected",
                         [("transport", engine?.transport == .polling ? "polling" : "websocket"), ("sid", sid),
                          ("user", selfUserId ?? "")])
                for c in configuration.conversations { emit(.join(conversationId: c)) }
                delegate?.sessionDidConnect(self, recovered: recovered)
            case .event(let name, let args, _):
                // The first argument, straight out of the received packet (validated, not copied).
                args.withFirst { data in delegate?.session(self, event: name, data: data) }
            case .ack(let id, let args):
                pendingAcks.removeValue(forKey: id)?(.success(args))
            case .ackTimedOut(let id), .ackCancelled(let id):
                pendingAcks.removeValue(forKey: id)?(.failure(.closedByServer(peer: configuration.url.hostHeader, detail: "no acknowledgement")))
            case .connectError(let message, _):
                closeTransport()
                engine?.transportClosed()
                failed(.authRefused(message: message))
            case .connectTimedOut:
                transport?.abort()
                transport = nil
                failed(.closedByServer(peer: configuration.url.hostHeader, detail: "no CONNECT reply in time"))
            case .disconnected(let reason):
                if stopped { break }
                if reason == .serverDisconnect {
                    // The server left the namespace; the socket.io-client would stay down, a daemon reconnects.
                    if let p = engine?.close() { transport?.send(p) }
                    closeTransport()
                    failed(.closedByServer(peer: configuration.url.hostHeader, detail: "io server disconnect"))
                }
            case .armTimer(let timer, let deadline):
                if let old = sioTimers[timer] { timers.cancel(old) }
                sioTimers[timer] = timers.schedule(at: Deadline(nanoseconds: deadline.nanoseconds)) { [weak self] in
                    guard let self else { return }
                    self.sioTimers[timer] = nil
                    self.perform(self.sio.timerFired(timer, now: self.now))
                }
            }
        }
    }

    /// Closes the transport gracefully without hearing about it: the caller reports why.
    func closeTransport() {
        let t = transport
        transport = nil
        t?.close()
    }

    /// Sends one Engine.IO packet after the liveness and maxPayload checks.
    func send(_ packet: EnginePacket) {
        guard let t = transport, var e = engine else { return }
        // Not reading, we cannot have seen the server's pings: that silence is ours.
        if isReadingPaused { e.excuseSilence(now: now) }
        let verdict = e.send(packet, now: now)
        engine = e
        switch verdict {
        case .send(let p): t.send(p)
        case .dead: pingTimedOut()
        case .refused(let error):
            if case .payloadTooLarge(let size, let limit) = error {
                log.debug("packet refused: larger than the server's maxPayload", [("bytes", String(size)), ("max_payload", String(limit))])
                delegate?.session(self, refused: .payloadTooLarge(bytes: size, limit: limit))
            }
        }
    }

    // MARK: Liveness

    func armLiveness() {
        if let t = livenessTimer { timers.cancel(t); livenessTimer = nil }
        // While reading is paused, silence is expected; the resume re-arms (TenantSession+Backpressure).
        guard !isReadingPaused, let deadline = engine?.deadline else { return }
        livenessTimer = timers.schedule(at: Deadline(nanoseconds: deadline.nanoseconds)) { [weak self] in
            guard let self else { return }
            self.livenessTimer = nil
            guard var e = self.engine else { return }
            let verdict = e.checkLiveness(now: self.now)
            self.engine = e
            switch verdict {
            case .alive: self.armLiveness()
            case .dead: self.pingTimedOut()
            }
        }
    }

    func pingTimedOut() {
        // The real silence (timers may fire late), not the configured limit.
        let ms = engine?.silenceMilliseconds(now: now) ?? 0
        // Closed, not dropped: the server ends the old session now (as socket.io-client makes
        // it do), so the reconnection can recover it instead of meeting a ghost still alive.
        if let p = engine?.close() { transport?.send(p) }
        closeTransport()
        disconnected(.pingTimeout, .pingTimeout(peer: configuration.url.hostHeader, milliseconds: ms))
    }
}
