import Transport

extension ConnectionFailure {
    /// What the operator can do about it, when the failure says enough: the wrong scheme for
    /// the port, an untrusted certificate (`--ca-file`), a name that does not resolve, nothing
    /// listening, a namespace the server does not have. Printed after the failure as `(hint: ...)`.
    public var hint: String? {
        switch self {
        case .transport(let e):
            let m = e.message.lowercased()
            if m.hasPrefix("proxy "), m.contains("refused connect") {
                return "the proxy could not or would not reach the server: check the URL, and NO_PROXY for hosts to reach directly"
            }
            if m.contains("wrong version number") || m.contains("packet length too long") || m.contains("record layer failure")
                || m.contains("ssl routines") && m.contains("unexpected") {
                return "the server does not speak TLS on this port: use http:// or ws://, or the TLS port"
            }
            if m.contains("self-signed") || m.contains("self signed") || m.contains("unable to get local issuer")
                || m.contains("unknown ca") || m.contains("certificate verify failed") || m.contains("ssl certificate problem") {
                return "the server's certificate is not trusted: pass its CA bundle with --ca-file PATH (server { ca_file = \"...\" } in the config)"
            }
            if m.contains("empty reply from server") || m.contains("curl 52") {
                return "the server sent nothing back: if this port expects TLS, use https:// or wss://"
            }
            if m.contains("could not resolve") || m.contains("curl 6)") { return "the host name does not resolve: check the host in the URL and the DNS" }
            if m.contains("couldn't connect") || m.contains("connection refused") || m.contains("curl 7)") {
                return "nothing accepts connections there: is the server running, and are host and port right?"
            }
            switch e.kind {
            case .dnsFailure: return "the host name does not resolve: check the host in the URL and the DNS"
            case .connectionRefused: return "nothing listens on that port: is the server running, and is the port right?"
            case .unreachable: return "no route to the host: check the address and the network"
            case .timedOut: return "no answer in time: a firewall, a wrong address, or raise --connect-timeout"
            case .closedByPeer: return "the server closed the connection at once: if this port expects TLS, use https:// or wss://"
            case .tls, .io: return nil
            }
        case .httpStatus(_, let status, _) where status == 404:
            return "no Socket.IO endpoint at this path: check the URL and --path (default /socket.io/)"
        case .httpStatus(_, let status, _) where status == 400:
            return "the server refused the Engine.IO request: check --path and that it is a Socket.IO v4 server"
        case .handshake(_, let detail) where detail.contains("HTTP/1.1 400") || detail.contains("status"):
            return "if this port expects TLS, use https:// or wss://"
        case .authRefused(let message) where message.lowercased().contains("namespace"):
            return "the server has no such Socket.IO namespace: check --namespace (default /)"
        case .authRefused:
            return "the token was refused: check it is the tenant's, and not expired"
        default:
            return nil
        }
    }

    /// Whether the server refused the namespace (not the credentials).
    public var isNamespaceRefusal: Bool {
        if case .authRefused(let message) = self { return message.lowercased().contains("namespace") }
        return false
    }
}
