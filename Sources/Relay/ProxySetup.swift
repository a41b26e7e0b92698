import Rules
import Transport

/// The configuration's proxy settings (`server { proxy  no_proxy  proxy_auth }`) made the
/// process-wide ``HTTPProxy/configured`` policy, which every transport consults before the
/// environment: the WebSocket CONNECT tunnel, polling and webhooks alike.
public enum ProxySetup {
    /// The policy for `server` with its credentials read now; nil when the block sets no proxy
    /// key (the environment decides); a reason when `proxy_auth` cannot be read or is not
    /// `user:password`.
    public static func policy(for server: ServerSettings) -> Result<ProxyPolicy?, ProxySetupError> {
        guard server.proxy != nil || server.noProxy != nil else { return .success(nil) }
        var policy = ProxyPolicy(proxy: server.proxy, noProxy: server.noProxy?.joined(separator: ","))
        if let ref = server.proxyAuth {
            switch SecretResolver.value(of: ref) {
            case .failure(let e): return .failure(ProxySetupError(description: "proxy_auth \(ref): \(e.description)"))
            case .success(let text):
                guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                    return .failure(ProxySetupError(description: "proxy_auth \(ref): expected user:password"))
                }
                policy.credentials = text
            }
        }
        return .success(policy)
    }

    /// Applies `server`'s settings; the reason when they cannot be (the policy in force stays).
    public static func apply(_ server: ServerSettings) -> ProxySetupError? {
        switch policy(for: server) {
        case .failure(let e): return e
        case .success(let p):
            HTTPProxy.configured = p
            return nil
        }
    }

    /// What to log about the policy (never the credentials).
    public static func summary(_ server: ServerSettings) -> [(String, String)]? {
        guard server.proxy != nil || server.noProxy != nil else { return nil }
        var fields: [(String, String)] = [("proxy", server.proxy ?? "from the environment")]
        if let n = server.noProxy { fields.append(("no_proxy", n.joined(separator: ","))) }
        if server.proxyAuth != nil { fields.append(("proxy_auth", "set")) }
        return fields
    }
}

/// Why the configured proxy settings cannot be applied.
public struct ProxySetupError: Error, CustomStringConvertible {
    public var description: String
}
