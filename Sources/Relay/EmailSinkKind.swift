import Curl
import Rules

extension SinkKind {
    /// `type = email`: SMTP out, IMAP polling (or `ingest-mail`) in.
    public static let email = SinkKind(name: "email", make: { settings, c throws(SinkSetupError) in
        guard case .email(let email) = settings.kind else { throw SinkSetupError(sink: settings.name, reason: "not an email sink") }
        do throws(HTTPError) { try c.curl.prepare() } catch { throw SinkSetupError(sink: settings.name, reason: error.message) }
        // Templates are looked up in the configuration in force when a mail is built, so a reload
        // that changes a route's template reaches the running sink (and its spooled messages).
        let started = c.config
        let host = c.host
        let template: (String) -> Template? = { [weak host] route in
            let config = (host as? Bridge)?.config ?? started
            return config.routes.first { $0.name == route }?.template
        }
        return try EmailSink(settings: settings, email: email, tenants: c.config.tenants.map(\.id), template: template,
                             spoolDirectory: c.config.spool.directory, curl: c.curl, loop: c.loop, logger: c.logger, host: c.host)
    }, secrets: { settings in
        guard case .email(let e) = settings.kind else { return [] }
        return (e.password.map { [$0] } ?? []) + e.replySecrets
    })
}
