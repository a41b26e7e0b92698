/// `type = webhook`: each event POSTed as JSON, signed the Standard Webhooks way.
public struct WebhookSinkSettings: Sendable, Equatable {
    /// `url`: `http` or `https` (required).
    public var url: String
    /// `secret`: signing secrets (`whsec_...`), by reference; several for rotation, first signs.
    public var secrets: [SecretRef]
    /// `allow_private`: allow loopback/private addresses; default false.
    public var allowPrivate: Bool
    /// `timeout`: per request; default 10s.
    public var timeout: Duration

    static let keys = ["url", "secret", "allow_private", "timeout"]

    static func read(_ reader: inout BlockReader) -> WebhookSinkSettings {
        WebhookSinkSettings(url: reader.url("url", schemes: ["http", "https"], required: true) ?? "",
                            secrets: reader.secrets("secret"),
                            allowPrivate: reader.bool("allow_private", default: false),
                            timeout: reader.duration("timeout", default: .seconds(10)))
    }
}
