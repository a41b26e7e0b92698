/// Process exit codes. Each failure class a script may want to branch on has its own code;
/// the numbers follow sysexits(3) where one fits.
enum ExitCode: Int32 {
    /// Success.
    case ok = 0
    /// The server refused the request (`message:error` for `send`), or `check` found errors.
    case failure = 1
    /// Bad command line (EX_USAGE).
    case usage = 64
    /// Malformed data from the server (EX_DATAERR).
    case dataError = 65
    /// An input file (token file, config) is missing or unreadable (EX_NOINPUT).
    case noInput = 66
    /// The host is unreachable or refused the connection (EX_UNAVAILABLE).
    case unavailable = 69
    /// A bug: an internal invariant broke, or the feature is not built yet (EX_SOFTWARE).
    case software = 70
    /// Timed out waiting for the server (EX_TEMPFAIL).
    case timeout = 75
    /// The server answered the WebSocket upgrade or polling request with an HTTP error (EX_PROTOCOL).
    case protocolError = 76
    /// The server refused the credentials: CONNECT_ERROR with its message (EX_NOPERM).
    case authRefused = 77
    /// The configuration is invalid (EX_CONFIG).
    case config = 78
    /// The TLS handshake failed (certificate, hostname, protocol).
    case tls = 80
}
