/// `type = webhook`: each event POSTed as JSON, signed the Standard Webhooks way.
public struct WebhookSinkSettings: Sendable, Equatable {
    /// `url`: `http` or `https` (required).
    public var url: String
    /// `secret`: signing secrets (`whsec_...`), by reference; several for rotation (each signs,
    /// so receivers may hold either). The same secrets authenticate this sink's inbound commands.
    public var secrets: [SecretRef]
    /// `allow_private`: allow loopback/private addresses; default false (SSRF guard).
    public var allowPrivate: Bool
    /// `timeout`: whole request; default 10s.
    public var timeout: Duration
    /// `connect_timeout`: default 5s.
    public var connectTimeout: Duration = .seconds(5)
    /// `concurrency`: requests in flight at once (different conversations); default 4.
    public var concurrency: Int = 4
    /// `headers`: extra request headers, `"Name: value"` each.
    public var headers: [(name: String, value: String)] = []
    /// `ca_file`: trust this CA bundle for https instead of the system store.
    public var caFile: String?

    static let keys = ["url", "secret", "allow_private", "timeout", "connect_timeout", "concurrency", "headers", "ca_file"]

    /// Settings built in code.
    public init(url: String, secrets: [SecretRef], allowPrivate: Bool, timeout: Duration) {
        self.url = url
        self.secrets = secrets
        self.allowPrivate = allowPrivate
        self.timeout = timeout
    }

    static func read(_ reader: inout BlockReader) -> WebhookSinkSettings {
        var s = WebhookSinkSettings(url: reader.url("url", schemes: ["http", "https"], required: true) ?? "",
                                    secrets: reader.secrets("secret"),
                                    allowPrivate: reader.bool("allow_private", default: false),
                                    timeout: reader.duration("timeout", default: .seconds(10)))
        s.connectTimeout = reader.duration("connect_timeout", default: .seconds(5))
        s.concurrency = reader.integer("concurrency", default: 4, range: 1...256)
        s.caFile = reader.path("ca_file", mustBeReadable: true)
        for item in reader.stringList("headers") ?? [] {
            let parts = item.split(separator: ":", maxSplits: 1)
            let name = parts.first.map { String($0).trimmingSpaces } ?? ""
            let value = parts.count == 2 ? String(parts[1]).trimmingSpaces : ""
            let badName = name.isEmpty || name.utf8.contains { $0 <= 32 || $0 >= 127 }
            let reserved = ["content-type", "content-length", "host", "webhook-id", "webhook-timestamp", "webhook-signature"]
            if parts.count != 2 || badName || value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 })
                || reserved.contains(name.lowercased()) {
                if let entry = reader.entry("headers") {
                    reader.fail(entry.value.location, "bad header `\(item)`",
                                hint: "write \"Name: value\"; Content-Type, Host and the webhook-* headers are set by the daemon")
                }
                continue
            }
            s.headers.append((name, value))
        }
        return s
    }

    public static func == (a: WebhookSinkSettings, b: WebhookSinkSettings) -> Bool {
        a.url == b.url && a.secrets == b.secrets && a.allowPrivate == b.allowPrivate && a.timeout == b.timeout
            && a.connectTimeout == b.connectTimeout && a.concurrency == b.concurrency && a.caFile == b.caFile
            && a.headers.map { $0.name + ":" + $0.value } == b.headers.map { $0.name + ":" + $0.value }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

extension WebhookSinkSettings: ConfigurableSinkKind {
    public static let typeName = "webhook"
    public var templateEscaping: TemplateEscaping { .json }
    public var secretReferences: [SecretRef] { secrets }
}

extension SinkSettings.Kind {
    /// `type = webhook`.
    public static func webhook(_ settings: WebhookSinkSettings) -> Self { Self(settings) }
}
