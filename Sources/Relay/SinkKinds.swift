import Crypto
import Curl
import Diagnostics
import Rules
import Transport

/// One sink kind this build can run: the seam every kind plugs into.
///
/// Adding a kind `x`:
/// 1. `Sources/Rules/XSinkSettings.swift`: its settings as a `ConfigurableSinkKind` (keys,
///    reading and validation with file:line:col errors, template escaping, secret references,
///    per-delivery attributes) and ONE line in `SinkSettings.registry`;
/// 2. `Sources/Relay/XSink.swift`: the `Sink` itself;
/// 3. a `SinkKind` value in the kind's own file (`extension SinkKind { static let x }`) saying
///    how to build it and what `check` verifies beyond the language (secrets readable and of the
///    right shape, programs executable...);
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
    /// What `check` finds that `run` would trip on (file:line:col of the sink block), given the
    /// `PATH` programs are looked up in.
    public let readiness: @Sendable (_ settings: SinkSettings, _ searchPath: String) -> [ConfigError]

    /// A kind; its secrets default to what its settings reference (`SinkKindSettings`).
    public init(name: String, make: @escaping @Sendable (_ settings: SinkSettings, _ context: SinkContext) throws(SinkSetupError) -> Sink,
                secrets: @escaping @Sendable (_ settings: SinkSettings) -> [SecretRef] = { $0.kind.settings.secretReferences },
                readiness: @escaping @Sendable (_ settings: SinkSettings, _ searchPath: String) -> [ConfigError] = { _, _ in [] }) {
        self.name = name
        self.make = make
        self.secrets = secrets
        self.readiness = readiness
    }

    /// The kind's settings of `settings`, or the setup error saying the sink is of another kind.
    public static func settings<T: SinkKindSettings>(_ type: T.Type, of settings: SinkSettings) throws(SinkSetupError) -> T {
        guard let own = settings.kind.settings(as: T.self) else {
            throw SinkSetupError(sink: settings.name, reason: "not a \(T.typeName) sink")
        }
        return own
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
    public static let pipe = SinkKind(name: PipeSinkSettings.typeName, make: { settings, c throws(SinkSetupError) in
        let p = try SinkKind.settings(PipeSinkSettings.self, of: settings)
        return PipeSink(settings: settings, pipe: p, loop: c.loop, reaper: c.reaper, logger: c.logger, host: c.host,
                        hiddenEnvironment: c.hiddenEnvironment)
    }, readiness: { sink, path in
        guard let pipe = sink.kind.settings(as: PipeSinkSettings.self), let program = pipe.command.first,
              let problem = ConfigReadiness.executableProblem(program, searchPath: path) else { return [] }
        return [ConfigError(sink.location, "sink `\(sink.name)`: command \(program): \(problem)",
                            hint: "a relative program with a / is resolved against the config file's directory; without one, PATH is searched")]
    })

    /// `type = webhook`.
    public static let webhook = SinkKind(name: WebhookSinkSettings.typeName, make: { settings, c throws(SinkSetupError) in
        let w = try SinkKind.settings(WebhookSinkSettings.self, of: settings)
        do throws(HTTPError) { try c.curl.prepare() } catch { throw SinkSetupError(sink: settings.name, reason: error.message) }
        return try WebhookSink(settings: settings, webhook: w, curl: c.curl, logger: c.logger, host: c.host)
    }, readiness: { sink, _ in
        var out: [ConfigError] = []
        for ref in sink.kind.settings.secretReferences {
            switch SecretResolver.value(of: ref) {
            case .failure(let e):
                out.append(ConfigError(sink.location, "sink `\(sink.name)`: secret \(ref): \(e.description)", hint: nil))
            case .success(let text):
                do throws(WebhookSecretError) { _ = try WebhookSecret(text) } catch {
                    out.append(ConfigError(sink.location, "sink `\(sink.name)`: secret \(ref): \(error.description)",
                                           hint: "a Standard Webhooks key: whsec_ followed by the base64 of at least 16 random bytes"))
                }
            }
        }
        return out
    })
}
