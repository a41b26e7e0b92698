import Diagnostics
import JSON
import Mojo
import Rules

/// A reconnect that was not recovered (the server offers no connection-state recovery, or no
/// longer had the session): events sent while the connection was down may be lost. One warn line,
/// `mojo_bridge_session_gaps_total{tenant}`, and a `bridge:gap` event routed like the server's
/// events to the routes whose `events` include `gap` (or `all`), so a consumer can re-fetch:
/// `{"tenant":..., "disconnectedAt":..., "reconnectedAt":..., "durationMs":..., "recovered":false}`.
extension Bridge {
    func announceGap(_ session: TenantSession, tenant: String, fromMs: Int64, toMs: Int64) {
        let from = Self.iso(ms: fromMs), to = Self.iso(ms: toMs)
        log.warn("reconnected without session recovery: events sent while disconnected may be lost",
                 [("tenant", tenant), ("disconnected_at", from), ("reconnected_at", to), ("gap_ms", String(toMs - fromMs))])
        count("mojo_bridge_session_gaps_total", Self.gapsHelp, [("tenant", tenant)])
        let data: JSONValue = ["tenant": .string(tenant), "disconnectedAt": .string(from), "reconnectedAt": .string(to),
                               "durationMs": JSONValue(Int(toMs - fromMs)), "recovered": false]
        let bytes = Array(data.serialized().utf8)
        bytes.withUnsafeBytes { self.session(session, event: EventKind.gapEventName, data: $0) }
    }

    static let gapsHelp = "Reconnects that were not recovered (events sent while disconnected may be lost)"
}
