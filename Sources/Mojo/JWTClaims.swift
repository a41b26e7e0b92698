import JSON
import WebSocket

/// The claims mojo-bridge reads from a MOJO (Clerk) session token, without verifying it: the server
/// verifies; the bridge only needs to know who it is and when to refresh.
public struct JWTClaims: Sendable, Equatable {
    /// `sub`: the user id the daemon acts as ("self" for echo suppression).
    public var subject: String
    /// `exp`: expiry, seconds since the Unix epoch; nil when absent.
    public var expiresAt: Int64?
    /// `org_id`: Clerk's active organisation, when present.
    public var organisation: String?

    /// Claims given directly (tests, tools).
    public init(subject: String, expiresAt: Int64?, organisation: String?) {
        self.subject = subject
        self.expiresAt = expiresAt
        self.organisation = organisation
    }

    /// Decodes the payload segment of a compact JWS (`header.payload.signature`).
    public init(token: String) throws(TokenError) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("a JWT has three dot-separated parts, this one has \(parts.count)") }
        guard let bytes = Base64.decodeURLSafe(String(parts[1])) else { throw .malformed("the payload is not base64url") }
        let json: JSONValue
        do { json = try JSONValue(parsing: bytes) } catch { throw .malformed("the payload is not JSON") }
        guard let sub = json["sub"]?.stringValue, !sub.isEmpty else { throw .malformed("the payload has no `sub` claim") }
        subject = sub
        if let exp = json["exp"] {
            guard let v = exp.doubleValue else { throw .malformed("`exp` is not a number") }
            expiresAt = Int64(v)
        }
        organisation = json["org_id"]?.stringValue
    }

    /// Seconds left before expiry at `nowUnix`; nil when the token has no `exp`.
    public func secondsLeft(nowUnix: Int64) -> Int64? { expiresAt.map { $0 - nowUnix } }
}

extension Base64 {
    /// Decodes base64url (RFC 4648 §5) with or without padding.
    static func decodeURLSafe(_ s: String) -> [UInt8]? {
        var t = String(s.map { c -> Character in c == "-" ? "+" : (c == "_" ? "/" : c) })
        while t.utf8.count % 4 != 0 { t.append("=") }
        return decode(t)
    }
}
