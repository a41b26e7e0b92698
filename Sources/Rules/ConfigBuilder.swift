/// Turns the blocks of all files into a ``BridgeConfig``: block kinds and names, singletons,
/// duplicates, and the cross-references between routes, sinks and tenants.
struct ConfigBuilder {
    static let blockKinds = ["server", "tenant", "sink", "route", "admin", "spool", "log"]
    private static let singletons = ["server", "admin", "spool", "log"]

    let env: ConfigEnvironment
    /// Where a missing `server` or `tenant` is reported: the main file.
    let mainFile: String
    var errors: [ConfigError] = []

    init(env: ConfigEnvironment, mainFile: String) {
        self.env = env
        self.mainFile = mainFile
    }

    mutating func build(_ blocks: [SyntaxBlock], files: [String]) -> BridgeConfig? {
        var server: ServerSettings?
        var admin: AdminSettings?
        var spool = SpoolSettings()
        var log = LogSettings()
        var tenants: [TenantSettings] = []
        var sinks: [SinkSettings] = []
        var routes: [Route] = []
        var firstSeen: [String: SourceLocation] = [:]
        var routeTargets: [(Route, SyntaxEntry?)] = []

        for block in blocks {
            guard ConfigBuilder.blockKinds.contains(block.kind) else {
                errors.append(ConfigError(block.location, "unknown block `\(block.kind)`",
                                          hint: Suggestion.hint(for: block.kind, in: ConfigBuilder.blockKinds, noun: "blocks")))
                continue
            }
            let single = ConfigBuilder.singletons.contains(block.kind)
            if single, let name = block.name, let at = block.nameLocation {
                errors.append(ConfigError(at, "`\(block.kind)` takes no name, found `\(name)`", hint: "write `\(block.kind) {`"))
            }
            if !single, block.name == nil {
                errors.append(ConfigError(block.location, "`\(block.kind)` needs a name",
                                          hint: "write `\(block.kind) \(block.kind == "tenant" ? "org_id" : "name") {`"))
                continue
            }
            let identity = single ? block.kind : "\(block.kind) \(block.name ?? "")"
            if let first = firstSeen[identity] {
                errors.append(ConfigError(block.nameLocation ?? block.location, "duplicate `\(identity)`",
                                          hint: "it is already defined at \(first)"))
                continue
            }
            firstSeen[identity] = block.location
            var reader = BlockReader(block: block, allowed: ConfigBuilder.keys(of: block.kind), env: env)
            let name = block.name ?? ""
            switch block.kind {
            case "server": server = ServerSettings.read(&reader)
            case "admin": admin = AdminSettings.read(&reader)
            case "spool": spool = SpoolSettings.read(&reader)
            case "log": log = LogSettings.read(&reader)
            case "tenant": tenants.append(TenantSettings.read(&reader, id: name))
            case "sink":
                if let sink = SinkSettings.read(&reader, name: name) { sinks.append(sink) }
            default:
                let route = Route.read(&reader, name: name)
                routes.append(route)
                routeTargets.append((route, reader.entry("to")))
            }
            reader.finish()
            errors += reader.errors
        }

        let top = SourceLocation(file: mainFile, line: 1, column: 1)
        // Without the block, the environment (MOJO_URL, MOJO_TENANTS, MOJO_TOKEN_FILE) supplies it; a
        // rule file checked alone (`check --fragment`, `mojo-bridge test`) needs neither.
        if server == nil, !blocks.contains(where: { $0.kind == "server" }) {
            server = env.allowsFragment && env.environment("MOJO_URL") == nil ? ServerSettings(url: "") : serverFromEnvironment(at: top)
        }
        if tenants.isEmpty, !blocks.contains(where: { $0.kind == "tenant" }),
           !(env.allowsFragment && env.environment("MOJO_TENANTS") == nil && env.environment("MOJO_TENANT") == nil) {
            tenants = tenantsFromEnvironment(at: top)
        }
        checkReferences(routeTargets, sinks: sinks, tenants: tenants, blocks: blocks)
        guard errors.isEmpty, let server else { return nil }
        return BridgeConfig(server: server, tenants: tenants, sinks: sinks, routes: routes,
                            admin: admin, spool: spool, log: log, files: files)
    }

    /// Every route's `to` names a sink; a literal `tenant` names a declared tenant.
    private mutating func checkReferences(_ routes: [(Route, SyntaxEntry?)], sinks: [SinkSettings],
                                          tenants: [TenantSettings], blocks: [SyntaxBlock]) {
        // Sinks whose block was broken still count as defined, to avoid a second error per route.
        let sinkNames = blocks.filter { $0.kind == "sink" }.compactMap(\.name)
        let tenantIds = tenants.map(\.id)
        for (route, entry) in routes {
            guard let entry else { continue }
            for name in route.sinks where !sinkNames.contains(name) {
                errors.append(ConfigError(entry.value.location, "route `\(route.name)` sends to unknown sink `\(name)`",
                                          hint: sinkNames.isEmpty ? "define it with sink \(name) { type = pipe ... }"
                                              : Suggestion.hint(for: name, in: sinkNames, noun: "sinks")))
            }
        }
        for block in blocks where block.kind == "route" {
            guard let entry = block.entries.first(where: { $0.key == "tenant" }), !tenantIds.isEmpty else { continue }
            let values: [SyntaxValue]
            if case .list(let items) = entry.value.kind { values = items } else { values = [entry.value] }
            for value in values {
                guard case .string(let id) = value.kind, !Glob.isPattern(id) else {
                    guard case .word(let id) = value.kind, !tenantIds.contains(id) else { continue }
                    unknownTenant(id, at: value.location, known: tenantIds)
                    continue
                }
                if !tenantIds.contains(id) { unknownTenant(id, at: value.location, known: tenantIds) }
            }
        }
    }

    private mutating func unknownTenant(_ id: String, at location: SourceLocation, known: [String]) {
        errors.append(ConfigError(location, "route names unknown tenant `\(id)`",
                                  hint: Suggestion.hint(for: id, in: known, noun: "tenants")))
    }

    private static func keys(of kind: String) -> [String] {
        switch kind {
        case "server": return ServerSettings.keys
        case "admin": return AdminSettings.keys
        case "spool": return SpoolSettings.keys
        case "log": return LogSettings.keys
        case "tenant": return TenantSettings.keys
        case "sink": return SinkSettings.commonKeys
        default: return Route.keys
        }
    }
}
