import SocketIO
import Transport

/// Which Engine.IO transports a session uses.
public enum TransportMode: String, Sendable, CaseIterable {
    /// WebSocket only (the socket.io-client default when `transports: ['websocket']`).
    case websocket
    /// HTTP long-polling only (through proxies that block upgrades).
    case polling
    /// HTTP long-polling first, then upgrade to WebSocket with the Engine.IO probe
    /// (socket.io-client's default `['polling', 'websocket']`).
    case upgrade
    /// WebSocket first; if the WebSocket upgrade itself fails (an HTTP error on the upgrade, a bad
    /// handshake, a proxy closing it), long-polling for that attempt, which then tries to upgrade to
    /// WebSocket with the Engine.IO probe. Network-level failures (DNS, refused) don't switch.
    case auto
}

/// How a `TenantSession` connects and reconnects.
public struct SessionConfiguration: Sendable {
    /// The server.
    public var url: ServerURL
    /// The tenant (organisation) id sent as `auth.tenantId`; nil sends none.
    public var tenant: String?
    /// Where the JWT comes from, re-read at every attempt.
    public var token: TokenSource
    /// Transports to use.
    public var transport: TransportMode = .auto
    /// TLS settings for wss/https (verification on by default).
    public var tls: TLSConfiguration = TLSConfiguration()
    /// Socket.IO namespace.
    public var namespace: String = "/"
    /// TCP/TLS connect timeout, and the timeout of polling POSTs.
    public var connectTimeoutMs: Int = 10_000
    /// Largest WebSocket message accepted from the server.
    public var maxMessageSize: Int = 16 << 20
    /// Most bytes waiting to go out on a WebSocket (the server is not reading them: Engine.IO
    /// pongs to a ping flood, commands): past it the connection is closed with that reason and
    /// reconnected. WebSocket-level pongs never pile up (at most one waits unsent).
    public var maxPendingWriteBytes: Int = 4 << 20
    /// Emits kept while disconnected, and what happens when that buffer is full.
    public var emitBufferLimit: Int = 1000
    public var emitBufferPolicy: SocketIOClientState.BufferPolicy = .dropOldest
    /// Reconnect delays (socket.io-client's defaults), and the longer ones after an auth refusal.
    public var backoff = ReconnectBackoff()
    public var authBackoff = ReconnectBackoff.authRefusal
    /// Give up after this many failed attempts in a row (nil: never; the daemon's default).
    public var maxAttempts: Int? = nil
    /// Give up when an attempt fails before the session has ever connected (command-line tools
    /// want an exit code, not a retry loop); once connected, reconnect as usual.
    public var failFast: Bool = false
    /// Conversations to `conversation:join` after every connect (the server auto-joins the others).
    public var conversations: [String] = []

    /// A configuration with defaults for everything but the essentials.
    public init(url: ServerURL, tenant: String?, token: TokenSource) {
        self.url = url
        self.tenant = tenant
        self.token = token
        tls.serverName = url.host
    }
}
