import Curl
import Rules

extension SinkKind {
    /// `type = email`: SMTP out, IMAP polling (or `ingest-mail`) in.
    public static let email = SinkKind(name: EmailSinkSettings.typeName, make: { settings, c throws(SinkSetupError) in
        let email = try SinkKind.settings(EmailSinkSettings.self, of: settings)
        do throws(HTTPError) { try c.curl.prepare() } catch { throw SinkSetupError(sink: settings.name, reason: error.message) }
        var templates: [String: Template] = [:]
        for route in c.config.routes { if let t = route.template { templates[route.name] = t } }
        return try EmailSink(settings: settings, email: email, tenants: c.config.tenants.map(\.id), templates: templates,
                             spoolDirectory: c.config.spool.directory, curl: c.curl, loop: c.loop, logger: c.logger, host: c.host)
    }, readiness: { sink, _ in
        guard let password = sink.kind.settings(as: EmailSinkSettings.self)?.password,
              case .failure(let e) = ConfigReadiness.nonEmpty(password) else { return [] }
        return [ConfigError(sink.location, "sink `\(sink.name)`: password \(password): \(e)", hint: nil)]
    })
}
