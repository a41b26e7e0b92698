/// Process exit codes. Each failure class a script may want to branch on has its own code;
/// the numbers follow sysexits(3) where one fits. `pipe` passes its child's status through.
struct ExitCode: Equatable {
    let rawValue: Int32
    /// Any status (the `pipe` child's).
    init(raw: Int32) { rawValue = raw }

    /// Success.
    static let ok = ExitCode(raw: 0)
    /// The server refused the request (`message:error` for `send`), or `check` found errors.
    static let failure = ExitCode(raw: 1)
    /// Bad command line (EX_USAGE).
    static let usage = ExitCode(raw: 64)
    /// Malformed data from the server (EX_DATAERR).
    static let dataError = ExitCode(raw: 65)
    /// An input file (token file, config) is missing or unreadable (EX_NOINPUT).
    static let noInput = ExitCode(raw: 66)
    /// The host is unreachable or refused the connection (EX_UNAVAILABLE).
    static let unavailable = ExitCode(raw: 69)
    /// A bug: an internal invariant broke, or the feature is not built yet (EX_SOFTWARE).
    static let software = ExitCode(raw: 70)
    /// Timed out waiting for the server (EX_TEMPFAIL).
    static let timeout = ExitCode(raw: 75)
    /// The server answered the WebSocket upgrade or polling request with an HTTP error (EX_PROTOCOL).
    static let protocolError = ExitCode(raw: 76)
    /// The server refused the credentials: CONNECT_ERROR with its message (EX_NOPERM).
    static let authRefused = ExitCode(raw: 77)
    /// The configuration is invalid (EX_CONFIG).
    static let config = ExitCode(raw: 78)
    /// The TLS handshake failed (certificate, hostname, protocol).
    static let tls = ExitCode(raw: 80)
}
