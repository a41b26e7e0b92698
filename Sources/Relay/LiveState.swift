import Diagnostics

/// What the live view (`GET /v1/status`, `mojo-bridge status`), the backlog progress lines and
/// the gap notices need beyond what sessions and spools already say: per tenant the connection
/// history, per sink a short delivery history, the last error and child restarts. Bounded: one
/// entry per configured tenant and sink (entries of removed ones are dropped at the next tick),
/// 11 rate samples per sink.
public final class LiveState {
    /// The daemon's version, shown by the live view (set by `run`).
    public var version = ""
    /// When the bridge was created (Unix ms).
    public let startedAtMs = Timestamp.nowUnixMilliseconds()
    var tenants: [String: TenantLive] = [:]
    var sinks: [String: SinkLive] = [:]

    init() {}

    func tenant(_ id: String) -> TenantLive {
        if let t = tenants[id] { return t }
        let t = TenantLive()
        tenants[id] = t
        return t
    }

    func sink(_ name: String) -> SinkLive {
        if let s = sinks[name] { return s }
        let s = SinkLive()
        sinks[name] = s
        return s
    }
}

/// One tenant's connection history.
final class TenantLive {
    /// The session object this history belongs to (a reload that restarts the tenant starts a new one).
    var session: ObjectIdentifier?
    var connected = false
    /// Since when the session is in its current state (Unix ms); nil before the first connect.
    var sinceMs: Int64?
    /// When the connection dropped, while it is down after having been up.
    var disconnectedAtMs: Int64?
    /// Whether the last reconnect restored the session (nil before any reconnect).
    var lastReconnectRecovered: Bool?
    /// Reconnects that were not recovered, and the last such gap.
    var gaps = 0
    var lastGap: (fromMs: Int64, toMs: Int64)?
}

/// One sink's short history: delivered counts sampled every second (rate over the last 10 s),
/// the last failure, child restarts and the backlog being drained.
final class SinkLive {
    /// (Unix ms, the runner's delivered count), oldest first; at most `sampleLimit`.
    var samples: [(ms: Int64, delivered: Int)] = []
    static let sampleLimit = 11
    var lastError: String?
    var lastErrorAtMs: Int64?
    var childRestarts = 0
    /// The runner the samples were taken from (a restarted sink starts counting from 0).
    var runner: ObjectIdentifier?
    /// A backlog being drained: when it was noticed, the delivered count then, the most pending
    /// seen, the last progress line and the interval to the next one.
    var backlog: (startMs: Int64, startDelivered: Int, peak: Int, lastLogMs: Int64, intervalMs: Int64)?

    /// Records a sample of `delivered` at `nowMs`.
    func sample(_ delivered: Int, nowMs: Int64) {
        samples.append((nowMs, delivered))
        if samples.count > Self.sampleLimit { samples.removeFirst(samples.count - Self.sampleLimit) }
    }

    /// Events delivered per second over the samples kept (about the last 10 s), counting `delivered` now.
    func rate(delivered: Int, nowMs: Int64) -> Double {
        guard let first = samples.first, nowMs > first.ms else { return 0 }
        return Double(max(0, delivered - first.delivered)) * 1000 / Double(nowMs - first.ms)
    }
}
