import Curl
import Rules

extension SinkKind {
    /// `type = email`: SMTP out, IMAP polling (or `ingest-mail`) in.
    public static let email = SinkKind(name: EmailSinkSettings.typeName, make: { settings, c throws(SinkSetupError) in
        let email = try SinkKind.settings(EmailSinkSettings.self, of: settings)
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
    }, readiness: { sink, _ in
        guard let password = sink.kind.settings(as: EmailSinkSettings.self)?.password,
              case .failure(let e) = ConfigReadiness.nonEmpty(password) else { return [] }
        return [ConfigError(sink.location, "sink `\(sink.name)`: password \(password): \(e)", hint: nil)]
    })
}
