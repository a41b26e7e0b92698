#if canImport(Glibc)
import Glibc
#endif

/// The environment of sink children: built from an allow-list, never the daemon's whole
/// environment (which holds tokens, secrets and whatever the service manager put there).
///
/// A child gets, from the daemon's environment, only `PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`,
/// `LANG`, `LANGUAGE`, `LC_*`, `TZ` and `TMPDIR` (`PATH` defaults to
/// `/usr/local/bin:/usr/bin:/bin` when unset), minus any name the configuration uses as an
/// `env:` secret; then `MOJO_BRIDGE_SINK`, `MOJO_TENANT`, `MOJO_CONVERSATION` and the sink's
/// own `env = [...]`. Anything else a child needs goes in its sink's `env`.
enum ChildEnvironment {
    /// The names passed through from the daemon's environment.
    static let allowed: Set<String> = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR"]

    /// Whether `name` passes the allow-list.
    static func isAllowed(_ name: String) -> Bool {
        allowed.contains(name) || name.hasPrefix("LC_")
    }

    /// The allow-listed part of the daemon's environment, `NAME=value` each, without `hidden` names.
    static func base(hiding hidden: Set<String>) -> [String] {
        var env: [String] = []
        var sawPath = false
        var i = 0
        while let entry = environ[i] {
            i += 1
            let kv = String(cString: entry)
            let name = kv.split(separator: "=", maxSplits: 1).first.map(String.init) ?? kv
            guard isAllowed(name), !hidden.contains(name) else { continue }
            if name == "PATH" { sawPath = true }
            env.append(kv)
        }
        if !sawPath { env.append("PATH=/usr/local/bin:/usr/bin:/bin") }
        return env
    }
}
