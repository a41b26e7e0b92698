import Transport

/// Backpressure: a consumer slower than the server (a full stdout, a full spool) pauses reading.
///
/// While paused the transport takes nothing from the socket: the kernel's receive buffer fills and
/// TCP flow control holds the server's writes, so the events wait on the server, not in our memory.
/// We cannot see the server's pings either, so our own liveness check is suspended; a server that
/// enforces its ping timeout drops the session meanwhile. On resume the socket is read again (the
/// events it still holds come first), a dropped session is noticed and reconnected with
/// connection-state recovery, which replays what was missed (one log line says so). Reconnection
/// attempts wait while paused. Writes (commands, pongs) go on while paused.
extension TenantSession {
    /// Whether reading is paused now (for any reason).
    public var isReadingPaused: Bool { !pauseReasons.isEmpty }

    /// Whether a disconnect now follows a pause that may have caused it.
    var disconnectFollowsPause: Bool {
        if isReadingPaused { return true }
        guard let until = blamePauseUntil else { return false }
        return timers.now.nanoseconds < until.nanoseconds
    }

    /// Stops reading events from the server because of `reason` (several reasons may hold at
    /// once; reading resumes when the last one is lifted).
    public func pauseReading(_ reason: String) {
        let was = isReadingPaused
        pauseReasons.insert(reason)
        guard !was else { return }
        readPauses += 1
        pausedAt = timers.now
        if let t = livenessTimer { timers.cancel(t); livenessTimer = nil }
        transport?.setReadingPaused(true)
        log.debug("reading paused: the consumer is slower than the server", [("reason", reason)])
    }

    /// Lifts `reason`; when no reason is left, reading (or a waiting reconnection) resumes.
    public func resumeReading(_ reason: String) {
        guard pauseReasons.remove(reason) != nil, pauseReasons.isEmpty else { return }
        log.debug("reading resumed", [("reason", reason)])
        // A pause longer than the server's ping timeout may have cost the session: a disconnect
        // noticed within one ping window from now is blamed on it.
        if let window = engine?.handshake.map({ $0.pingInterval + $0.pingTimeout }), let since = pausedAt,
           Int((timers.now.nanoseconds &- since.nanoseconds) / 1_000_000) >= (engine?.handshake?.pingTimeout ?? 0) {
            blamePauseUntil = Deadline(nanoseconds: timers.now.nanoseconds &+ UInt64(window) * 1_000_000)
        }
        pausedAt = nil
        if var e = engine {
            e.excuseSilence(now: now)
            engine = e
            armLiveness()
        }
        transport?.setReadingPaused(false)
        if attemptDeferred, !stopped, reconnectTimer == nil {
            attemptDeferred = false
            attempt()
        }
    }
}
