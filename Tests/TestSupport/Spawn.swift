import Glibc

/// Starts `argv` (looked up in PATH) for a test: stdin from `stdin` (or /dev/null), stdout to
/// `stdout`, stderr to `stderr` (or /dev/null), a minimal environment. Test-runner threads block most signals
/// and children inherit the mask: without resetting it the child would ignore SIGTERM, so it
/// starts with an empty mask and default dispositions. Returns the pid, or posix_spawn's error.
public func spawnTestChild(_ argv: [String], stdin: Int32?, stdout: Int32, stderr: Int32? = nil) -> Result<pid_t, SpawnError> {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdin {
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    if let stderr {
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    } else {
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    let duplicate: (String) -> UnsafeMutablePointer<CChar>? = { strdup($0) }
    let args = argv.map(duplicate) + [nil]
    let env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LC_ALL=C"].map(duplicate) + [nil]
    defer { (args + env).forEach { free($0) } }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var signals = sigset_t()
    sigemptyset(&signals)
    posix_spawnattr_setsigmask(&attributes, &signals)
    sigfillset(&signals)
    posix_spawnattr_setsigdefault(&attributes, &signals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, args, env)
    return rc == 0 ? .success(pid) : .failure(SpawnError(errno: rc, command: argv[0]))
}

/// Why `spawnTestChild` failed.
public struct SpawnError: Error {
    public let errno: Int32
    public let command: String
}
