import Curl
import Diagnostics
import Rules
import Transport

/// One sink kind this build can run: the seam every kind plugs into.
///
/// Adding a kind `x`:
/// 1. `Sources/Rules/XSinkSettings.swift`: its keys, reading and validation (file:line:col errors);
/// 2. `Sources/Relay/XSink.swift`: the `Sink` itself;
/// 3. a `SinkKind` value (below, or in the kind's own file as `extension SinkKind { static let x }`)
///    saying how to build it, which secrets its settings reference (hidden from every child's
///    environment) and which environment variables its own children get;
/// 4. ONE line in `SinkKinds.all`.
/// A kind whose settings parse but that has no entry here is refused by `check` and `run`
/// ("no factory registered for kind x"), never silently dropped.
public struct SinkKind: Sendable {
    /// The `type = ...` word.
    public let name: String
    /// Builds the sink; an error when its settings cannot be used now (a secret unreadable...).
    public let make: @Sendable (_ settings: SinkSettings, _ context: SinkContext) throws(SinkSetupError) -> Sink
    /// The secret references of a sink of this kind (`env:` names are hidden from children).
    public let secrets: @Sendable (_ settings: SinkSettings) -> [SecretRef]

    public init(name: String, make: @escaping @Sendable (_ settings: SinkSettings, _ context: SinkContext) throws(SinkSetupError) -> Sink,
                secrets: @escaping @Sendable (_ settings: SinkSettings) -> [SecretRef]) {
        self.name = name
        self.make = make
        self.secrets = secrets
    }
}

/// What a kind's factory may use.
public struct SinkContext {
    public let loop: EventLoop
    public let reaper: ChildReaper
    public let curl: CurlMulti
    public let logger: Logger
    public let host: SinkHost
    /// Environment variable names no child may inherit (every `env:` secret of the config in force).
    public let hiddenEnvironment: Set<String>
    /// The configuration in force when the sink starts (routes' templates, tenants, spool).
    public let config: BridgeConfig
}

/// The registry of sink kinds.
public enum SinkKinds {
    /// Every kind this build can run: one registration line per kind.
    public static let all: [SinkKind] = [
        .pipe,
        .webhook,
        .email,
    ]

    /// The kind registered as `name`.
    public static func named(_ name: String) -> SinkKind? { all.first { $0.name == name } }

    /// One error (file:line:col of the sink block) per sink whose kind this build cannot run.
    public static func unavailable(in config: BridgeConfig, registry: [SinkKind] = all) -> [ConfigError] {
        config.sinks.compactMap { s in
            !registry.contains(where: { $0.name == s.kind.name })
                ? ConfigError(s.location, "sink `\(s.name)`: no factory registered for kind \(s.kind.name) in this build",
                              hint: "this build runs " + registry.map(\.name).joined(separator: ", "))
                : nil
        }
    }

    /// Every environment variable the configuration names as a secret (tenant tokens, the admin
    /// token, every sink's secrets) plus `MOJO_TOKEN`: none reaches a child. Recomputed from the
    /// configuration in force at each reload.
    public static func secretEnvironmentNames(in config: BridgeConfig) -> Set<String> {
        var refs: [SecretRef] = config.tenants.map(\.token)
        if let t = config.admin?.token { refs.append(t) }
        if let p = config.server.proxyAuth { refs.append(p) }
        for s in config.sinks { refs += named(s.kind.name)?.secrets(s) ?? [] }
        var names: Set<String> = ["MOJO_TOKEN"]
        for case .env(let name) in refs { names.insert(name) }
        return names
    }

    /// The factory `run` gives the bridge: the registry, with the hidden names of the
    /// configuration `config()` returns at the time each sink starts.
    public static func factory(loop: EventLoop, reaper: ChildReaper, curl: CurlMulti, logger: Logger,
                               config: @escaping () -> BridgeConfig) -> SinkFactory {
        return { settings, host throws(SinkSetupError) in
            guard let kind = named(settings.kind.name) else {
                throw SinkSetupError(sink: settings.name, reason: "no factory registered for kind \(settings.kind.name) in this build")
            }
            let current = config()
            let context = SinkContext(loop: loop, reaper: reaper, curl: curl, logger: logger, host: host,
                                      hiddenEnvironment: secretEnvironmentNames(in: current), config: current)
            return try kind.make(settings, context)
        }
    }
}

extension SinkKind {
    /// `type = pipe`.
    public static let pipe = SinkKind(name: "pipe", make: { settings, c throws(SinkSetupError) in
        guard case .pipe(let p) = settings.kind else { throw SinkSetupError(sink: settings.name, reason: "not a pipe sink") }
        return PipeSink(settings: settings, pipe: p, loop: c.loop, reaper: c.reaper, logger: c.logger, host: c.host,
                        hiddenEnvironment: c.hiddenEnvironment)
    }, secrets: { _ in [] })

    /// `type = webhook`.
    public static let webhook = SinkKind(name: "webhook", make: { settings, c throws(SinkSetupError) in
        guard case .webhook(let w) = settings.kind else { throw SinkSetupError(sink: settings.name, reason: "not a webhook sink") }
        do throws(HTTPError) { try c.curl.prepare() } catch { throw SinkSetupError(sink: settings.name, reason: error.message) }
        return try WebhookSink(settings: settings, webhook: w, curl: c.curl, logger: c.logger, host: c.host)
    }, secrets: { settings in
        guard case .webhook(let w) = settings.kind else { return [] }
        return w.secrets
    })
}
