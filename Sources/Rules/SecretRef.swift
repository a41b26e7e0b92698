/// Where a secret comes from. Secrets are never written in a configuration file, only
/// referenced, so a leaked config leaks no credential.
///
/// Paths are already resolved against the directory of the file that names them.
/// `mojo-bridge check` verifies that `env:` variables are set and `file:` files are readable;
/// it never runs a `command:`.
public enum SecretRef: Sendable, Equatable, CustomStringConvertible {
    /// `env:NAME`: the value of an environment variable.
    case env(String)
    /// `file:PATH`: the contents of a file, trailing newline removed; re-read at every use.
    case file(String)
    /// `command:["argv0", "arg"]`: the standard output of a command run without a shell,
    /// trailing newline removed. Only tenant tokens accept it.
    case command([String])

    /// The reference as written, never the secret (safe for logs).
    public var description: String {
        switch self {
        case .env(let name): return "env:\(name)"
        case .file(let path): return "file:\(path)"
        case .command(let argv): return "command:[" + argv.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }

    /// Whether a key holds a secret and so accepts references only: `token`, `secret`,
    /// `password` and any key ending in `_token`, `_secret` or `_password`.
    static func isSecretKey(_ key: String) -> Bool {
        ["token", "secret", "password"].contains { key == $0 || key.hasSuffix("_" + $0) }
    }
}
