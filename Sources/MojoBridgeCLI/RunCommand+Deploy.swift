import Diagnostics
import Relay
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// What `run` does for deployments: the shard this replica holds and systemd's notifications.
enum Deployment {
    /// The shard from `--shard`, else `MOJO_SHARD`, else `server { shard }`; nil when none is set.
    /// `auto/N` is resolved against the host name. The error is printed by the caller (exit 78).
    static func shard(flag: String?, config: BridgeConfig) -> Result<Shard?, ShardError> {
        let spec: ShardSpec
        if let text = flag ?? env("MOJO_SHARD") {
            switch ShardSpec.parse(text) {
            case .success(let s): spec = s
            case .failure(let e): return .failure(ShardError((flag != nil ? "--shard: " : "MOJO_SHARD: ") + e.description))
            }
        } else if let s = config.server.shard {
            spec = s
        } else {
            return .success(nil)
        }
        return spec.resolve(hostname: hostname()).map { Optional($0) }
    }

    /// `config` reduced to the tenants of `shard`, with its own spool `<dir>/shard-<i>` so that
    /// replicas sharing a volume (or a machine) never share a spool; unchanged without a shard.
    static func apply(_ shard: Shard?, to config: BridgeConfig) -> BridgeConfig {
        guard let shard else { return config }
        var c = config
        c.tenants = config.tenants.filter { shard.owns($0.id) }
        c.spool.directory = config.spool.directory + (config.spool.directory.hasSuffix("/") ? "" : "/") + "shard-\(shard.index)"
        return c
    }

    /// The host name (`gethostname`), e.g. a StatefulSet pod's `bridge-3`.
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The notification socket when started by systemd with `Type=notify`; the variables are then
    /// removed from the environment so that no child can speak for the daemon.
    static func systemdNotify() -> SystemdNotify? {
        let notify = SystemdNotify()
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { unsetenv(name) }
        return notify
    }

    /// Sends `READY=1` when the readiness setting allows: at once for `sidecar`, else once every
    /// session has connected (checked every 50 ms until then; a shard without tenants is ready).
    static func announceReady(_ notify: SystemdNotify, bridge: Bridge, loop: EventLoop, log: Logger) {
        let sidecar = bridge.config.admin?.readiness == .sidecar
        func check() {
            let sessions = bridge.tenantSessions
            if sidecar || sessions.values.allSatisfy(\.isConnected) {
                if let e = notify.ready(status: "\(sessions.count) tenant session\(sessions.count == 1 ? "" : "s")") {
                    log.warn("systemd notification failed", [("error", e.description)])
                }
                return
            }
            loop.schedule(afterMilliseconds: 50) { check() }
        }
        check()
    }
}
