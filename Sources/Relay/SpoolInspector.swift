import Diagnostics
import Rules
import Transport

/// Offline access to the spools of a configuration, for `mojo-bridge spool`: list what is pending
/// and dead per sink, put dead letters back in line, drop items. Changing a spool needs the
/// daemon stopped (the spool lock says whether it runs).
public final class SpoolInspector {
    /// One spooled item, as listed.
    public struct Entry: Sendable {
        public var sink: String
        public var id: String
        public var dead: Bool
        public var attempts: Int
        public var nextAtMs: Int64
        public var enqueuedAtMs: Int64
        public var type: String
        public var conversation: String
        public var lastError: String
    }

    private let config: BridgeConfig
    private var spools: [(name: String, spool: SinkSpool)] = []
    private var lock: SpoolLock?

    /// Opens the spool of every sink of `config` (and the reply spools), read-only unless `forWriting`.
    public init(config: BridgeConfig, forWriting: Bool, log: Logger) throws(IOError) {
        self.config = config
        if forWriting {
            switch SpoolLock.acquire(directory: config.spool.directory) {
            case .success(let l): lock = l
            case .failure(let e): throw e
            }
        }
        for sink in config.sinks {
            spools.append((sink.name, try SinkSpool(directory: config.spool.directory, sink: sink.name, maxBytes: config.spool.maxSize,
                                                    windowLimit: forWriting ? .max : 1, log: log)))
        }
        for tenant in config.tenants {
            spools.append(("replies:" + tenant.id, try SinkSpool(directory: config.spool.directory + "/.replies", sink: tenant.id,
                                                                  maxBytes: config.spool.maxSize, windowLimit: forWriting ? .max : 1, log: log)))
        }
        if forWriting {
            // Everything in memory: drops by id need it (an offline command, not the daemon).
            for (_, spool) in spools { _ = spool.refill() }
        }
    }

    /// Every item, optionally of one sink: pending ones in spool order, then the dead letters.
    public func entries(sink: String? = nil) -> [Entry] {
        var out: [Entry] = []
        for (name, spool) in spools where sink == nil || sink == name {
            try? spool.forEachPending { item in
                out.append(Entry(sink: name, id: item.id, dead: false, attempts: Int(item.attempts), nextAtMs: item.nextAtMs,
                                 enqueuedAtMs: item.enqueuedAtMs, type: item.type, conversation: item.conversation,
                                 lastError: item.lastError))
            }
            try? spool.dead.forEach { l in
                out.append(Entry(sink: name, id: l.entry.id, dead: true, attempts: Int(l.attempts), nextAtMs: 0,
                                 enqueuedAtMs: l.entry.enqueuedAtMs, type: l.entry.type, conversation: l.entry.conversation,
                                 lastError: l.reason))
                return true
            }
        }
        return out
    }

    /// Per sink: pending, dead, bytes.
    public func summary() -> [(sink: String, pending: Int, dead: Int, bytes: Int)] {
        spools.map { ($0.name, $0.spool.pendingCount, $0.spool.deadCount, $0.spool.bytes) }
    }

    /// Puts dead letters back in line (all of `sink`'s when `ids` is empty); returns how many.
    public func retry(sink: String?, ids: [String]) throws(IOError) -> Int {
        var n = 0
        let now = Timestamp.nowUnixMilliseconds()
        for (name, spool) in spools where sink == nil || sink == name {
            n += try spool.revive(ids: ids, nowMs: now).count
            try? spool.checkpoint(sync: true)
            spool.syncIfDirty(nowMs: now, force: true)
        }
        return n
    }

    /// Drops items (dead ones only unless `pending` is set; all matching when `ids` is empty).
    public func drop(sink: String?, ids: [String], pending: Bool) throws(IOError) -> Int {
        var n = 0
        let now = Timestamp.nowUnixMilliseconds()
        for (name, spool) in spools where sink == nil || sink == name {
            if pending || !ids.isEmpty {
                for id in spool.orderedIDs where ids.isEmpty ? pending : ids.contains(id) {
                    try spool.remove(id, nowMs: now)
                    n += 1
                }
            }
            n += try spool.dropDead(ids: ids)
            try? spool.checkpoint(sync: true)
            spool.syncIfDirty(nowMs: now, force: true)
        }
        return n
    }
}
