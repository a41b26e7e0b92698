import Curl
import Rules

extension SinkKind {
    /// `type = email`: SMTP out, IMAP polling (or `ingest-mail`) in.
    public static let email = SinkKind(name: "email", make: { settings, c throws(SinkSetupError) in
        guard case .email(let email) = settings.kind else { throw SinkSetupError(sink: settings.name, reason: "not an email sink") }
        do throws(HTTPError) { try c.curl.prepare() } catch { throw SinkSetupError(sink: settings.name, reason: error.message) }
        var templates: [String: Template] = [:]
        for route in c.config.routes { if let t = route.template { templates[route.name] = t } }
        return try EmailSink(settings: settings, email: email, tenants: c.config.tenants.map(\.id), templates: templates,
                             spoolDirectory: c.config.spool.directory, curl: c.curl, loop: c.loop, logger: c.logger, host: c.host)
    }, secrets: { settings in
        guard case .email(let e) = settings.kind else { return [] }
        return (e.password.map { [$0] } ?? []) + e.replySecrets
    })
}
