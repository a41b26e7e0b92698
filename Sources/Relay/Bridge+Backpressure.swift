import Diagnostics
import Mojo
import Rules

/// `when_full = block`: real backpressure. When a sink's spool reaches `spool.max_size`, the
/// tenants' sessions stop reading from MOJO (their events stay on the server, see
/// `TenantSession.pauseReading`), and they read again once the spool is back under its low-water
/// mark. An event already received when the pause takes effect (at most one message per session)
/// is still spooled: a blocking sink's spool may exceed `max_size` by that much, never refuses.
extension Bridge {
    /// Headroom above `max_size` for the events already read when a pause takes effect (a message
    /// is at most 16 MiB, the session's `maxMessageSize`).
    static let blockHeadroom = 17 << 20

    /// Segment files of a spool: small enough that a drained spool shrinks (a segment leaves when
    /// its last event does) in steps well under `max_size`.
    static func segmentBytes(maxSize: Int) -> Int { min(8 << 20, max(64 << 10, maxSize / 8)) }

    /// The spool size under which a blocked sink lets the sessions read again.
    var blockLowWater: Int {
        let size = config.spool.maxSize
        return max(size / 2, size - 2 * Self.segmentBytes(maxSize: size))
    }

    /// The hard limit handed to a sink's spool: `max_size`, plus the headroom for a blocking sink.
    func spoolLimit(for settings: SinkSettings) -> Int {
        settings.whenFull == .block ? config.spool.maxSize + Self.blockHeadroom : config.spool.maxSize
    }

    /// Watches a new runner's spool: pauses the sessions when it is full (also at start, with a
    /// backlog from the last run), resumes them when deliveries made room.
    func watchSpool(_ runner: SinkRunner, blocks: Bool) {
        let name = runner.name
        _ = try? metrics.counter("mojo_bridge_backpressure_pauses_total", help: "Times a full spool (when_full = block) paused the sessions",
                                 labels: [("sink", name)])
        let dropped = try? metrics.counter("mojo_bridge_events_dropped_total", help: "Events lost to a full spool (drop_oldest, or refused)",
                                           labels: [("sink", name)])
        let refusedBefore = runner.onRefused, droppedBefore = runner.onDropped
        runner.onRefused = { refusedBefore?(); dropped?.increment() }
        runner.onDropped = { droppedBefore?(); dropped?.increment() }
        if !blocks { return unblock(name) }
        let counted = runner.onOutcome
        runner.onOutcome = { [weak self, weak runner] outcome, latency in
            counted?(outcome, latency)
            guard let self, let runner, outcome == .delivered, self.blockedSinks.contains(name) else { return }
            if runner.spool.bytes < self.blockLowWater { self.unblock(name) }
        }
        checkFull(runner)
        if blockedSinks.contains(name), runner.spool.bytes < blockLowWater { unblock(name) }
    }

    /// After an event was spooled for a blocking sink: pause the sessions when the spool is full.
    func checkFull(_ runner: SinkRunner) {
        guard !blockedSinks.contains(runner.name), runner.spool.bytes >= config.spool.maxSize else { return }
        blockedSinks.insert(runner.name)
        count("mojo_bridge_backpressure_pauses_total", "Times a full spool (when_full = block) paused the sessions", [("sink", runner.name)])
        // `pipe`'s small memory queue pauses and resumes often: that is routine there, not news.
        log.log(durable ? .warn : .debug, "spool full: sessions stop reading from MOJO until it has room (when_full = block; events wait on the server)",
                 [("sink", runner.name), ("spool_bytes", String(runner.spool.bytes)), ("max_size", String(config.spool.maxSize))])
        for (_, session) in sessions { session.pauseReading("spool:" + runner.name) }
    }

    /// The sink has room again (or is gone): lift its pause.
    func unblock(_ name: String) {
        guard blockedSinks.remove(name) != nil else { return }
        log.log(durable ? .info : .debug, "spool has room again: sessions read from MOJO again", [("sink", name), ("spool_bytes", String(sinks[name]?.spool.bytes ?? 0)),
                                                                           ("low_water", String(blockLowWater))])
        for (_, session) in sessions { session.resumeReading("spool:" + name) }
    }

    /// Lifts the pauses of sinks that a reload removed.
    func releaseRemovedSinks() {
        for name in blockedSinks where sinks[name] == nil { unblock(name) }
    }

    /// A new session starts paused while a blocking sink is full.
    func applyBlocks(to session: TenantSession) {
        for name in blockedSinks { session.pauseReading("spool:" + name) }
    }
}
