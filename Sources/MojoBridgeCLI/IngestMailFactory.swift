import Curl
import Diagnostics
import Relay
import Rules
import Transport

/// Builds email sinks for `run` (registered in `SinkFactories`).
enum EmailSinkFactory {
    static func make(settings: SinkSettings, email: EmailSinkSettings, config: BridgeConfig, curl: CurlMulti, loop: EventLoop,
                     logger: Logger, host: SinkHost) throws(SinkSetupError) -> Sink {
        do throws(HTTPError) { try curl.prepare() } catch { throw SinkSetupError(sink: settings.name, reason: error.message) }
        var templates: [String: Template] = [:]
        for route in config.routes { if let t = route.template { templates[route.name] = t } }
        return try EmailSink(settings: settings, email: email, tenants: config.tenants.map(\.id), templates: templates,
                             spoolDirectory: config.spool.directory, curl: curl, loop: loop, logger: logger, host: host)
    }
}
