import Mojo
import Rules
import SocketIO

/// The tenant sessions: starting them, and what they report about their connections (events
/// go to `Bridge+Routing.swift`).
extension Bridge {
    func startSession(_ tenant: TenantSettings) {
        let configuration: SessionConfiguration
        do {
            configuration = try SessionConfiguration(server: config.server, tenant: tenant, join: config.conversationsToJoin(tenant: tenant.id))
        } catch {
            log.error("tenant not started: bad server URL", [("tenant", tenant.id), ("error", error.description)])
            return
        }
        let session = makeSession?(configuration, self)
            ?? TenantSession(configuration: configuration, loop: loop, curl: curl, reaper: reaper, logger: log, delegate: self)
        sessions[tenant.id] = session
        applyBlocks(to: session)
        session.start()
        resendSpooledReplies(tenant: tenant.id, session: session)
    }

    public func sessionDidConnect(_ session: TenantSession, recovered: Bool) {
        if let tenant = session.configuration.tenant, sessions[tenant] === session {
            connectionRestored(tenant: tenant, session: session)
            liveConnected(session, tenant: tenant, recovered: recovered)
        }
        // Mirror presence: who is online now, after every (re)connect.
        session.emit(.presenceGet)
        fireSettled(force: false)
    }

    public func session(_ session: TenantSession, refused failure: ConnectionFailure) {
        log.error("command not sent", [("tenant", session.configuration.tenant ?? ""), ("reason", failure.description)])
    }

    public func session(_ session: TenantSession, didDisconnect failure: ConnectionFailure?, reconnectInMs: Int?) {
        // The session logs its own failures with the reason and the next delay.
        if let tenant = session.configuration.tenant, sessions[tenant] === session {
            connectionLost(tenant: tenant)
            liveDisconnected(session, tenant: tenant)
        }
    }
}

extension SessionConfiguration {
    /// A session configuration from the daemon's config. The URL was validated by the loader.
    public init(server: ServerSettings, tenant: TenantSettings, join: [String]) throws(ServerURLError) {
        let url = try ServerURL(server.url)
        let token: TokenSource
        switch tenant.token {
        case .env(let name): token = .environment(name)
        case .file(let path): token = .file(path)
        case .command(let argv): token = .command(argv)
        }
        self.init(url: url, tenant: tenant.id, token: token)
        switch server.transport {
        case .websocket: transport = .websocket
        case .polling: transport = .polling
        case .upgrade: transport = .upgrade
        case .auto: transport = .auto
        }
        tls.caFile = server.caFile
        connectTimeoutMs = server.connectTimeout.wholeMilliseconds
        // Whole seconds, as before: the cap is documented in seconds.
        let cap = Int(server.reconnectMaxDelay.components.seconds) * 1000
        backoff = ReconnectBackoff(base: 1000, max: max(1000, cap), randomization: 0.5)
        authBackoff = ReconnectBackoff(base: 5000, max: max(5000, cap * 2), randomization: 0.5)
        conversations = join
    }
}
