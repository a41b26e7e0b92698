import WebSocket

/// A Standard Webhooks signing key: `whsec_` followed by the base64 of the key bytes.
///
/// `description` and `debugDescription` never show the key, so a secret can be logged or
/// interpolated by mistake without leaking. Use `encoded` to show it on purpose.
public struct WebhookSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The prefix of the textual form.
    public static let prefix = "whsec_"
    /// The shortest key accepted, in bytes (128 bits).
    public static let minimumKeyBytes = 16

    /// The raw HMAC key.
    let key: [UInt8]

    /// Parses `whsec_<base64>` or bare base64; surrounding whitespace is ignored and missing
    /// `=` padding is tolerated.
    public init(_ text: String) throws(WebhookSecretError) {
        var body = Substring(text).drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        while let last = body.last, last == " " || last == "\t" || last == "\n" || last == "\r" { body = body.dropLast() }
        if body.hasPrefix(Self.prefix) { body = body.dropFirst(Self.prefix.count) }
        guard !body.isEmpty else { throw .empty }
        var padded = String(body)
        switch padded.utf8.count % 4 {
        case 2: padded += "=="
        case 3: padded += "="
        case 1: throw .notBase64
        default: break
        }
        guard let key = Base64.decode(padded) else { throw .notBase64 }
        try self.init(key: key)
    }

    /// Wraps raw key bytes (at least `minimumKeyBytes`).
    public init(key: [UInt8]) throws(WebhookSecretError) {
        guard key.count >= Self.minimumKeyBytes else { throw .tooShort(bytes: key.count) }
        self.key = key
    }

    /// A fresh random 32-byte secret.
    public static func generate() throws(CryptoError) -> WebhookSecret {
        // 32 random bytes always satisfy the minimum, so `init(key:)` cannot fail here.
        WebhookSecret(unchecked: try SecureRandom.bytes(32))
    }

    private init(unchecked key: [UInt8]) {
        self.key = key
    }

    /// The secret in its textual form, `whsec_<base64>`: shows the key.
    public var encoded: String { Self.prefix + Base64.encode(key) }

    /// `"whsec_[redacted]"`.
    public var description: String { Self.prefix + "[redacted]" }

    /// Same as `description`.
    public var debugDescription: String { description }

    /// Compares keys in constant time.
    public static func == (lhs: WebhookSecret, rhs: WebhookSecret) -> Bool {
        ConstantTime.equals(lhs.key, rhs.key)
    }
}

/// Why a webhook secret could not be parsed. Never carries the secret itself.
public enum WebhookSecretError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing after the optional `whsec_` prefix.
    case empty
    /// The text is not valid base64.
    case notBase64
    /// The key is shorter than `WebhookSecret.minimumKeyBytes`.
    case tooShort(bytes: Int)

    /// A message for the operator.
    public var description: String {
        switch self {
        case .empty: return "webhook secret is empty"
        case .notBase64: return "webhook secret is not base64 (expected whsec_<base64>)"
        case .tooShort(let bytes): return "webhook secret key is \(bytes) bytes; at least \(WebhookSecret.minimumKeyBytes) required"
        }
    }
}
