import WebSocket

/// Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
/// `id + "." + timestamp + "." + body`, sent as `webhook-signature: v1,<base64> ...`.
///
/// Several secrets sign at once (one `v1,` entry each) so keys can be rotated: add the new
/// secret, let receivers learn it, then drop the old one.
public enum StandardWebhooks {
    /// Header carrying the message id (stable across retries; the idempotency key).
    public static let idHeader = "webhook-id"
    /// Header carrying the Unix time in seconds of this delivery attempt.
    public static let timestampHeader = "webhook-timestamp"
    /// Header carrying the space-separated signatures.
    public static let signatureHeader = "webhook-signature"
    /// Largest accepted clock difference, in seconds (5 minutes).
    public static let defaultTolerance: Int64 = 300

    /// The bytes that are signed.
    public static func signedContent(id: String, timestamp: Int64, body: [UInt8]) -> [UInt8] {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return content
    }

    /// `v1,<base64>` entries, one per secret, separated by spaces.
    public static func sign(id: String, timestamp: Int64, body: [UInt8], secrets: [WebhookSecret]) throws(CryptoError) -> String {
        try Signer(secrets: secrets).sign(id: id, timestamp: timestamp, body: body)
    }

    /// Signs many messages with the same secrets: their HMAC keys are prepared once (a webhook
    /// sink keeps one for its life) and the signed content is fed without being copied.
    public final class Signer {
        private let keys: [HMACSHA256Key]

        public init(secrets: [WebhookSecret]) throws(CryptoError) {
            var keys: [HMACSHA256Key] = []
            for secret in secrets { keys.append(try HMACSHA256Key(key: secret.key)) }
            self.keys = keys
        }

        /// The `webhook-signature` value: `v1,<base64>` per secret, separated by spaces.
        public func sign(id: String, timestamp: Int64, body: [UInt8]) throws(CryptoError) -> String {
            let prefix = Array("\(id).\(timestamp).".utf8)
            var entries: [String] = []
            for key in keys {
                // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
                let mac = prefix.withUnsafeBytes { p in
                    body.withUnsafeBytes { b in Result { () throws(CryptoError) in try key.authenticate(p, b) } }
                }
                entries.append("v1," + Base64.encode(try mac.get()))
            }
            return entries.joined(separator: " ")
        }
    }

    /// The three headers for one delivery attempt.
    public static func headers(id: String, timestamp: Int64, body: [UInt8],
                               secrets: [WebhookSecret]) throws(CryptoError) -> [(name: String, value: String)] {
        [(idHeader, id), (timestampHeader, String(timestamp)),
         (signatureHeader, try sign(id: id, timestamp: timestamp, body: body, secrets: secrets))]
    }

    /// Parses a `webhook-timestamp` value: decimal Unix seconds, nothing else.
    public static func parseTimestamp(_ text: String) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }

    /// Checks a received message: the timestamp must lie within `tolerance` seconds of `now`,
    /// and one `v1,` entry of `signatureHeader` must match one of `secrets` (compared in
    /// constant time; entries of other versions are ignored).
    public static func verify(id: String, timestamp: Int64, body: [UInt8], signatureHeader: String,
                              secrets: [WebhookSecret], now: Int64,
                              tolerance: Int64 = defaultTolerance) -> Result<Void, WebhookVerificationError> {
        guard !secrets.isEmpty else { return .failure(.noSecrets) }
        let entries = signatureHeader.split(separator: " ")
        guard !entries.isEmpty, entries.count <= 64, entries.allSatisfy({ $0.contains(",") }) else {
            return .failure(.malformedSignatureHeader)
        }
        let (skew, overflow) = now.subtractingReportingOverflow(timestamp)
        if overflow || skew > tolerance { return .failure(.timestampTooOld) }
        if skew < -tolerance { return .failure(.timestampInFuture) }
        let candidates = entries.compactMap { entry -> [UInt8]? in
            guard entry.hasPrefix("v1,") else { return nil }
            return Base64.decode(String(entry.dropFirst(3)))
        }
        guard !candidates.isEmpty else { return .failure(.noMatchingSignature) }
        let content = signedContent(id: id, timestamp: timestamp, body: body)
        var matched = false
        for secret in secrets {
            let expected: [UInt8]
            do {
                expected = try HMAC.sha256(key: secret.key, data: content)
            } catch {
                return .failure(.cryptoFailure(error))
            }
            // No early exit: the work done does not depend on which entry matched.
            for candidate in candidates where ConstantTime.equals(expected, candidate) { matched = true }
        }
        return matched ? .success(()) : .failure(.noMatchingSignature)
    }
}

/// Why an inbound webhook was refused. Safe to report to the sender.
public enum WebhookVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No secret is configured to verify with.
    case noSecrets
    /// The signature header is empty or has an entry without `version,signature` shape.
    case malformedSignatureHeader
    /// The timestamp is older than the tolerance (a replay or a badly skewed clock).
    case timestampTooOld
    /// The timestamp is further in the future than the tolerance.
    case timestampInFuture
    /// No `v1,` entry matches any secret.
    case noMatchingSignature
    /// OpenSSL failed to compute the HMAC.
    case cryptoFailure(CryptoError)

    /// A short reason.
    public var description: String {
        switch self {
        case .noSecrets: return "no webhook secret configured"
        case .malformedSignatureHeader: return "malformed webhook-signature header"
        case .timestampTooOld: return "webhook-timestamp too old"
        case .timestampInFuture: return "webhook-timestamp too far in the future"
        case .noMatchingSignature: return "no matching signature"
        case .cryptoFailure(let error): return "signature check failed: \(error)"
        }
    }
}
