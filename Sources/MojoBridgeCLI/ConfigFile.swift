import Relay
import Rules

/// Where the configuration is and how `run`, `check` and `spool` read it.
enum ConfigFile {
    /// `--config`, else `MOJO_BRIDGE_CONFIG`, else `/etc/mojo-bridge/bridge.conf`.
    static func path(_ args: ParsedArguments) -> String {
        args.last("--config") ?? env("MOJO_BRIDGE_CONFIG") ?? "/etc/mojo-bridge/bridge.conf"
    }

    /// Loads `path`; on failure prints every error (`file:line:col: error: ...`) and a summary
    /// line ending in `suffix`, and returns nil.
    /// `verifyReferences: false` checks secrets' and CA files' references for shape only
    /// (`check --no-secrets`); `fragment` accepts a file without `server` and `tenant` blocks.
    static func load(_ path: String, prefix: String, suffix: String = "", verifyReferences: Bool = true,
                     fragment: Bool = false) -> BridgeConfig? {
        var env = ConfigEnvironment.system
        env.verifiesReferences = verifyReferences
        env.allowsFragment = fragment
        switch ConfigLoader.load(path: path, env: env) {
        case .success(let c):
            return c
        case .failure(let errors):
            for e in errors { printErr(e.description) }
            printErr("\(prefix)\(path): \(errors.count) error\(errors.count == 1 ? "" : "s")\(suffix)")
            return nil
        }
    }
}
