/// The `server { }` block: where MOJO is and how to reach it.
public struct ServerSettings: Sendable, Equatable {
    /// How the Socket.IO session reaches the server.
    public enum Transport: String, Sendable, CaseIterable {
        /// WebSocket only.
        case websocket
        /// HTTP long-polling only.
        case polling
        /// Long-polling first, upgraded to WebSocket when the server offers it (socket.io-client's default).
        case upgrade
        /// WebSocket; when the WebSocket upgrade itself is refused (a proxy), polling with upgrade.
        case auto
    }

    /// `url`: `ws`, `wss`, `http` or `https` URL of the server (required).
    public var url: String
    /// `transport`: default `auto`.
    public var transport: Transport
    /// `ca_file`: extra CA bundle (PEM) to trust, resolved path; `nil` uses the system store.
    public var caFile: String?
    /// `connect_timeout`: default 10s.
    public var connectTimeout: Duration
    /// `reconnect_max_delay`: upper bound of the reconnection backoff; default 30s.
    public var reconnectMaxDelay: Duration
    /// `shard`: `"i/N"` or `"auto/N"`: this daemon holds only the tenants of shard i of N
    /// (``Shard``); `--shard` and `MOJO_SHARD` win. `nil`: every tenant.
    public var shard: ShardSpec?
    /// `proxy`: `http://host:port` for every connection (WebSocket, polling, webhooks), or
    /// `direct` for none; wins over `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`. nil: the environment's.
    public var proxy: String?
    /// `no_proxy`: destinations reached directly (names, `.domain` suffixes, addresses, `*`);
    /// replaces `NO_PROXY` when given.
    public var noProxy: [String]?
    /// `proxy_auth`: `user:password` for the proxy, by reference (`env:NAME`, `file:PATH`).
    public var proxyAuth: SecretRef?
    /// Where the block starts.
    public var location: SourceLocation?

    /// Settings from their values.
    public init(url: String, transport: Transport = .auto, caFile: String? = nil,
                connectTimeout: Duration = .seconds(10), reconnectMaxDelay: Duration = .seconds(30),
                location: SourceLocation? = nil) {
        self.url = url
        self.transport = transport
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.reconnectMaxDelay = reconnectMaxDelay
        self.location = location
    }

    static let keys = ["url", "transport", "ca_file", "connect_timeout", "reconnect_max_delay", "shard", "proxy", "no_proxy", "proxy_auth"]

    /// Reads a `server` block.
    static func read(_ reader: inout BlockReader) -> ServerSettings {
        let url = reader.url("url", schemes: ["ws", "wss", "http", "https"], required: true) ?? ""
        var shard: ShardSpec?
        if let text = reader.string("shard"), let value = reader.entry("shard")?.value {
            switch ShardSpec.parse(text) {
            case .success(let spec): shard = spec
            case .failure(let e): reader.fail(value.location, e.description, hint: "for example shard = \"2/4\", or \"auto/4\" in a StatefulSet of 4")
            }
        }
        var settings = ServerSettings(
            url: url,
            transport: reader.enumeration("transport", default: .auto),
            caFile: reader.path("ca_file", mustBeReadable: true),
            connectTimeout: reader.duration("connect_timeout", default: .seconds(10)),
            reconnectMaxDelay: reader.duration("reconnect_max_delay", default: .seconds(30)),
            location: reader.block.location)
        settings.shard = shard
        readProxy(&reader, into: &settings)
        return settings
    }

    /// `proxy`, `no_proxy`, `proxy_auth`.
    static func readProxy(_ reader: inout BlockReader, into settings: inout ServerSettings) {
        if let text = reader.string("proxy"), let value = reader.entry("proxy")?.value {
            if text == "direct" {
                settings.proxy = text
            } else if !text.lowercased().hasPrefix("http://") {
                reader.fail(value.location, "`proxy` must be an http:// URL or \"direct\", found \"\(text)\"",
                            hint: "for example proxy = \"http://proxy.internal:3128\" (https and socks proxies are not supported)")
            } else if text.dropFirst(7).prefix(while: { $0 != "/" }).contains("@") {
                reader.fail(value.location, "`proxy` must not carry credentials", hint: "give them by reference: proxy_auth = env:NAME or file:PATH (user:password)")
            } else {
                let authority = text.dropFirst(7).prefix { $0 != "/" }
                if authority.isEmpty || authority.hasSuffix(":") {
                    reader.fail(value.location, "`proxy` has no host and port, found \"\(text)\"", hint: "for example proxy = \"http://proxy.internal:3128\"")
                } else {
                    settings.proxy = text
                }
            }
        }
        settings.noProxy = reader.stringList("no_proxy")
        settings.proxyAuth = reader.secret("proxy_auth", allowCommand: false, required: false)
        if settings.proxyAuth != nil, settings.proxy == nil || settings.proxy == "direct", let at = reader.entry("proxy_auth")?.value.location {
            reader.fail(at, "`proxy_auth` needs `proxy` in the same block", hint: "proxy = \"http://proxy.internal:3128\"")
        }
    }
}
