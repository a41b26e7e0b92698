/// A loaded, validated configuration: everything `mojo-bridge run` needs, nothing unresolved
/// but secrets (which stay references until used).
public struct BridgeConfig: Sendable {
    /// The `server` block.
    public var server: ServerSettings
    /// The `tenant` blocks, in file order.
    public var tenants: [TenantSettings]
    /// The `sink` blocks, in file order.
    public var sinks: [SinkSettings]
    /// The `route` blocks, in file order (includes expanded where they appear).
    public var routes: [Route]
    /// The `admin` block, if any (no listener without it).
    public var admin: AdminSettings?
    /// The `spool` block or its defaults.
    public var spool: SpoolSettings
    /// The `log` block or its defaults.
    public var log: LogSettings
    /// Every file read (the main file first, then includes in order), for reload and watching.
    public var files: [String]

    /// A configuration from its parts.
    public init(server: ServerSettings, tenants: [TenantSettings] = [], sinks: [SinkSettings] = [],
                routes: [Route] = [], admin: AdminSettings? = nil, spool: SpoolSettings = SpoolSettings(),
                log: LogSettings = LogSettings(), files: [String] = []) {
        self.server = server
        self.tenants = tenants
        self.sinks = sinks
        self.routes = routes
        self.admin = admin
        self.spool = spool
        self.log = log
        self.files = files
    }

    /// The sink called `name`.
    public func sink(named name: String) -> SinkSettings? {
        sinks.first { $0.name == name }
    }

    /// The tenant with id `id`.
    public func tenant(id: String) -> TenantSettings? {
        tenants.first { $0.id == id }
    }

    /// Conversation ids the daemon should `conversation:join` on `tenant`: the tenant's own
    /// list plus every literal (non-glob) id that a route applying to the tenant names.
    public func conversationsToJoin(tenant: String) -> [String] {
        var ids = self.tenant(id: tenant)?.conversations ?? []
        for route in routes where route.tenants.isEmpty || Glob.matchesAny(route.tenants, tenant) {
            for id in route.conversations where !Glob.isPattern(id) && !ids.contains(id) {
                ids.append(id)
            }
        }
        return ids
    }

    /// The routes `event` takes, in file order: every matching route up to and including the
    /// first one without `continue = true`.
    public func match(_ event: RoutableEvent) -> [Route] {
        var taken: [Route] = []
        forEachMatch(event) { _, route in taken.append(route) }
        return taken
    }

    /// Calls `body` with the index (in `routes`) and the route of every route `event` takes, as
    /// `match` orders them, without copying routes (the relay's hot path).
    public func forEachMatch(_ event: RoutableEvent, _ body: (_ index: Int, _ route: Route) -> Void) {
        for index in routes.indices where routes[index].matches(event) {
            body(index, routes[index])
            if !routes[index].continues { break }
        }
    }
}
