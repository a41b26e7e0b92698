/// Twelve-factor configuration: a file may hold only the rules (sinks and routes) and leave the
/// server and the tenants to the environment.
///
/// - No `server` block: `MOJO_URL` is the server's URL (`MOJO_CA_FILE` an extra CA bundle).
/// - No `tenant` block: `MOJO_TENANTS` (ids separated by commas or spaces; `MOJO_TENANT` for one)
///   are the tenants. Their tokens: `MOJO_TOKEN_FILE`, a path where `{tenant}` stands for the id
///   (`/run/secrets/mojo/{tenant}`; without `{tenant}`, one file for a single tenant), else
///   `MOJO_TOKEN` for a single tenant. Token files are re-read at every connect, like `file:`.
///
/// A block in the file always wins; the variables are read only when it is missing.
extension ConfigBuilder {
    /// Where settings taken from the environment are said to come from in messages.
    static func environmentLocation(_ variable: String) -> SourceLocation {
        SourceLocation(file: "env:\(variable)", line: 1, column: 1)
    }

    /// The server from `MOJO_URL`, or an error at the top of the main file.
    mutating func serverFromEnvironment(at top: SourceLocation) -> ServerSettings? {
        guard let url = nonEmpty("MOJO_URL") else {
            errors.append(ConfigError(top, "no `server` block and MOJO_URL is not set",
                                      hint: "add server { url = \"wss://messaging.mojo-institut.de\" } or export MOJO_URL"))
            return nil
        }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard url.contains("://"), ["ws", "wss", "http", "https"].contains(scheme) else {
            errors.append(ConfigError(ConfigBuilder.environmentLocation("MOJO_URL"), "MOJO_URL must be a ws, wss, http or https URL, found \"\(url)\"",
                                      hint: "for example wss://messaging.mojo-institut.de"))
            return nil
        }
        var caFile: String?
        if let ca = nonEmpty("MOJO_CA_FILE") {
            let resolved = ConfigPath.resolve(ca, against: ConfigPath.directory(of: mainFile))
            if case .failure(let reason) = env.readFile(resolved) {
                errors.append(ConfigError(ConfigBuilder.environmentLocation("MOJO_CA_FILE"), "cannot read MOJO_CA_FILE \(resolved): \(reason)", hint: nil))
            }
            caFile = resolved
        }
        return ServerSettings(url: url, caFile: caFile, location: ConfigBuilder.environmentLocation("MOJO_URL"))
    }

    /// The tenants from `MOJO_TENANTS` / `MOJO_TENANT` with tokens from `MOJO_TOKEN_FILE` or
    /// `MOJO_TOKEN`, or an error at the top of the main file.
    mutating func tenantsFromEnvironment(at top: SourceLocation) -> [TenantSettings] {
        let variable = nonEmpty("MOJO_TENANTS") != nil ? "MOJO_TENANTS" : "MOJO_TENANT"
        guard let list = nonEmpty(variable) else {
            errors.append(ConfigError(top, "no `tenant` block and neither MOJO_TENANTS nor MOJO_TENANT is set",
                                      hint: "add tenant org_id { token = file:/run/secrets/mojo-token } or export MOJO_TENANTS=org_a,org_b and MOJO_TOKEN_FILE=/run/secrets/mojo/{tenant}"))
            return []
        }
        let at = ConfigBuilder.environmentLocation(variable)
        var ids: [String] = []
        for part in list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" }) {
            let id = String(part)
            guard id.unicodeScalars.allSatisfy({ Lexer.isWordScalar($0) }) else {
                errors.append(ConfigError(at, "\(variable): `\(id)` is not a tenant id", hint: "ids are letters, digits, _, - and ."))
                continue
            }
            if ids.contains(id) {
                errors.append(ConfigError(at, "\(variable): tenant `\(id)` is listed twice", hint: nil))
            } else {
                ids.append(id)
            }
        }
        let tokenFile = nonEmpty("MOJO_TOKEN_FILE")
        if let pattern = tokenFile {
            if !pattern.contains("{tenant}") && ids.count > 1 {
                errors.append(ConfigError(ConfigBuilder.environmentLocation("MOJO_TOKEN_FILE"),
                                          "MOJO_TOKEN_FILE names one file for \(ids.count) tenants",
                                          hint: "write {tenant} where the tenant id goes, e.g. /run/secrets/mojo/{tenant}"))
                return []
            }
        } else {
            guard ids.count == 1 else {
                errors.append(ConfigError(at, "\(ids.count) tenants from \(variable) but no MOJO_TOKEN_FILE",
                                          hint: "export MOJO_TOKEN_FILE=/run/secrets/mojo/{tenant}; MOJO_TOKEN serves a single tenant only"))
                return []
            }
            if env.environment("MOJO_TOKEN") == nil {
                errors.append(ConfigError(at, "no token for tenant \(ids[0]): neither MOJO_TOKEN_FILE nor MOJO_TOKEN is set",
                                          hint: "export MOJO_TOKEN_FILE=/run/secrets/mojo-token"))
            }
        }
        let directory = ConfigPath.directory(of: mainFile)
        return ids.map { id in
            guard let pattern = tokenFile else { return TenantSettings(id: id, token: .env("MOJO_TOKEN"), location: at) }
            let path = ConfigPath.resolve(pattern.replacingAll("{tenant}", with: id), against: directory)
            if case .failure(let reason) = env.readFile(path) {
                errors.append(ConfigError(ConfigBuilder.environmentLocation("MOJO_TOKEN_FILE"),
                                          "cannot read the token file of tenant \(id), \(path): \(reason)", hint: nil))
            }
            return TenantSettings(id: id, token: .file(path), location: at)
        }
    }

    private func nonEmpty(_ name: String) -> String? {
        guard let v = env.environment(name), !v.isEmpty else { return nil }
        return v
    }
}

extension String {
    /// This string with every occurrence of `target` replaced by `replacement` (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        out += rest
        return out
    }
}
