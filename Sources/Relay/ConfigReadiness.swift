import Crypto
import Mojo
import Rules
#if canImport(Glibc)
import Glibc
#endif

/// What `mojo-bridge check` verifies beyond the language: that `run` will find what it needs.
/// Secrets are read (never printed) and checked for the shape their use requires: webhook
/// secrets parse as Standard Webhooks keys, tokens are not empty; pipe programs exist and are
/// executable. Each problem is one `file:line:col: error: message (hint: ...)` line, as the
/// loader's errors are.
public enum ConfigReadiness {
    /// Every problem found, in configuration order; empty when `run` has what it needs.
    public static func problems(in config: BridgeConfig, path: String = env("PATH") ?? "/usr/local/bin:/usr/bin:/bin") -> [ConfigError] {
        var out: [ConfigError] = []
        for tenant in config.tenants {
            switch tenant.token {
            case .command: break  // run only at connect time, never by `check`
            case .env, .file:
                if case .failure(let e) = nonEmpty(tenant.token) {
                    out.append(ConfigError(tenant.location, "tenant `\(tenant.id)`: token \(tenant.token): \(e)",
                                           hint: "the token is the tenant's JWT"))
                }
                // Not checked for JWT shape: MOJO's tokens are JWTs, but a token file may be
                // refreshed by another process, and a development server may take opaque ones.
            }
        }
        // Each kind checks its own settings (SinkKinds.swift and the kinds' files).
        for sink in config.sinks { out += SinkKinds.named(sink.kind.name)?.readiness(sink, path) ?? [] }
        if config.server.proxyAuth != nil, case .failure(let e) = ProxySetup.policy(for: config.server) {
            out.append(ConfigError(config.server.location ?? SourceLocation(file: config.files.first ?? "-", line: 1, column: 1),
                                   "server: \(e.description)", hint: "the file or variable holds user:password"))
        }
        if let admin = config.admin, let token = admin.token, case .failure(let e) = nonEmpty(token) {
            let at = config.files.first.map { SourceLocation(file: $0, line: 1, column: 1) } ?? SourceLocation(file: "-", line: 1, column: 1)
            out.append(ConfigError(at, "admin token \(token): \(e)", hint: nil))
        }
        return out
    }

    static func nonEmpty(_ ref: SecretRef) -> Result<Void, SecretError> {
        switch SecretResolver.value(of: ref) {
        case .failure(let e): return .failure(e)
        case .success(let v): return v.isEmpty ? .failure(SecretError("is empty")) : .success(())
        }
    }

    /// Why `program` cannot be run, or nil.
    static func executableProblem(_ program: String, searchPath: String) -> String? {
        if program.contains("/") {
            if access(program, F_OK) != 0 { return "no such file" }
            if access(program, X_OK) != 0 { return "not executable" }
            return nil
        }
        for dir in searchPath.split(separator: ":") where access("\(dir)/\(program)", X_OK) == 0 { return nil }
        return "not found in PATH"
    }

    /// The `sub` claim of a token given by `env:` or `file:` (the bridge's own user), or nil
    /// when it cannot be read offline (a `command:` token, unset, not a JWT).
    public static func tokenSubject(_ ref: SecretRef) -> String? {
        if case .command = ref { return nil }
        guard case .success(let text) = SecretResolver.value(of: ref), !text.isEmpty else { return nil }
        return (try? JWTClaims(token: text))?.subject
    }

    /// An environment variable, nil when unset.
    public static func env(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
