/// The outside world as the loader sees it: files, directories and environment variables.
///
/// `Rules` makes no system calls; the daemon passes closures backed by the real file system
/// and `getenv`, tests pass dictionaries. Every path handed to these closures is already
/// resolved against the directory of the file that names it.
public struct ConfigEnvironment: Sendable {
    /// Reads a whole file; the failure carries a short reason such as `No such file or directory`.
    public var readFile: @Sendable (String) -> Result<[UInt8], AccessError>
    /// Lists the entry names (not paths) of a directory; the failure is a short reason.
    public var listDirectory: @Sendable (String) -> Result<[String], AccessError>
    /// The value of an environment variable, or `nil` when it is unset.
    public var environment: @Sendable (String) -> String?
    /// Whether a path names an executable regular file (pipe commands). The default (tests,
    /// in-memory configs) accepts every readable file.
    public var isExecutable: (@Sendable (String) -> Bool)?
    /// Whether references to the outside world are verified: `env:` variables set, `file:`
    /// secrets and `ca_file` bundles readable. `check --no-secrets` turns it off (for CI, where
    /// the secrets do not exist): references are then checked for shape only.
    public var verifiesReferences = true
    /// Whether the configuration may lack `server` and `tenant` blocks: a rule file checked
    /// alone (`check --fragment`, `mojo-bridge test`). The result then has an empty server URL.
    public var allowsFragment = false

    /// An environment from its three capabilities.
    public init(
        readFile: @escaping @Sendable (String) -> Result<[UInt8], AccessError>,
        listDirectory: @escaping @Sendable (String) -> Result<[String], AccessError>,
        environment: @escaping @Sendable (String) -> String?
    ) {
        self.readFile = readFile
        self.listDirectory = listDirectory
        self.environment = environment
    }

    /// An in-memory environment: `files` maps paths to contents, directories are derived from
    /// the paths, `variables` are the environment. For tests and for `check` on a string.
    public static func inMemory(files: [String: String], variables: [String: String] = [:]) -> ConfigEnvironment {
        ConfigEnvironment(
            readFile: { path in
                if let text = files[path] { return .success(Array(text.utf8)) }
                return .failure(AccessError("No such file or directory"))
            },
            listDirectory: { dir in
                let prefix = dir.hasSuffix("/") ? dir : dir + "/"
                var names: [String] = []
                for path in files.keys where path.hasPrefix(prefix) {
                    let rest = path.dropFirst(prefix.count)
                    if !rest.isEmpty, !rest.contains("/") { names.append(String(rest)) }
                }
                if names.isEmpty, !files.keys.contains(where: { $0.hasPrefix(prefix) }) {
                    return .failure(AccessError("No such file or directory"))
                }
                return .success(names)
            },
            environment: { variables[$0] }
        )
    }
}

/// Why a file or directory could not be read: a short reason such as `No such file or directory`
/// (`strerror` text), shown after the path in diagnostics.
public struct AccessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, without the path.
    public var reason: String

    /// An error with its reason.
    public init(_ reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { reason }
}
