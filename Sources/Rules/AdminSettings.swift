/// The `admin { }` block: the HTTP listener for health, metrics and inbound events.
public struct AdminSettings: Sendable, Equatable {
    /// `listen`: `host:port` (required), e.g. `"127.0.0.1:9090"`.
    public var listen: String
    /// `token`: bearer token required by the inbound event endpoint, if any.
    public var token: SecretRef?
    /// `readiness`: what `/readyz` (and systemd's `READY=1`) waits for.
    public var readiness: Readiness = .strict

    /// Whether MOJO being unreachable makes the daemon unready.
    public enum Readiness: String, Sendable, CaseIterable {
        /// Ready only while every tenant session is connected (and the spool writable): a
        /// standalone daemon, taken out of rotation when it cannot reach MOJO. The default.
        case strict
        /// Ready once started while the spool is writable; sessions that are down are reported in
        /// the `/readyz` body but do not fail it, so a sidecar does not take its pod out of its
        /// Service while MOJO is away (events wait in the spool).
        case sidecar
    }

    /// Settings from their values.
    public init(listen: String, token: SecretRef? = nil) {
        self.listen = listen
        self.token = token
    }

    static let keys = ["listen", "token", "readiness"]

    static func read(_ reader: inout BlockReader) -> AdminSettings {
        var listen = reader.string("listen", required: true) ?? ""
        if !listen.isEmpty, hostPort(listen) == nil, let entry = reader.entry("listen") {
            reader.fail(entry.value.location, "`listen` must be host:port, found \"\(listen)\"",
                        hint: "for example \"127.0.0.1:9090\" or \"[::1]:9090\"")
            listen = ""
        }
        var settings = AdminSettings(listen: listen, token: reader.secret("token", allowCommand: false, required: false))
        settings.readiness = reader.enumeration("readiness", default: .strict)
        return settings
    }

    /// Splits `host:port` (IPv6 hosts in brackets); `nil` when malformed.
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty else { return nil }
        return (host, port)
    }
}
