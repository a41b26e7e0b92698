/// Why no usable token could be had. Never carries the token itself.
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The token is not a readable JWT.
    case malformed(String)
    /// `MOJO_TOKEN` (or the named variable) is unset or empty.
    case environmentUnset(String)
    /// The token file could not be read.
    case fileUnreadable(path: String, reason: String)
    /// The token file is empty.
    case fileEmpty(path: String)
    /// The token command failed to start, timed out, or exited non-zero.
    case commandFailed(command: String, reason: String)
    /// The token is already expired (or expires within the refresh margin) even after a fresh read.
    case expired(secondsAgo: Int64)

    public var description: String {
        switch self {
        case .malformed(let why): "token is not a valid JWT: \(why)"
        case .environmentUnset(let name): "no token: \(name) is unset or empty (use --token-file or --token-command)"
        case .fileUnreadable(let path, let reason): "cannot read token file \(path): \(reason)"
        case .fileEmpty(let path): "token file \(path) is empty"
        case .commandFailed(let cmd, let reason): "token command `\(cmd)` failed: \(reason)"
        case .expired(let ago): ago >= 0 ? "token expired \(ago) s ago" : "token expires in \(-ago) s, too soon to connect"
        }
    }
}
