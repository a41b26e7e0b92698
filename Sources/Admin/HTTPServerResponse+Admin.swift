import Diagnostics
import HTTP
import JSON

extension HTTPServerResponse {
    /// A response with `value` serialized as the body and `Content-Type: application/json`.
    public static func json(_ status: Int, _ value: JSONValue) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [("Content-Type", "application/json")],
                           body: Array(value.serialized().utf8))
    }

    /// `{"error":"<message>"}` with `status`.
    public static func jsonError(_ status: Int, _ message: String) -> HTTPServerResponse {
        json(status, .object(["error": .string(message)]))
    }

    /// The registry rendered in the Prometheus text format, 200.
    public static func metrics(_ registry: MetricsRegistry) -> HTTPServerResponse {
        HTTPServerResponse(status: 200, headers: [("Content-Type", MetricsRegistry.contentType)],
                           body: Array(registry.render().utf8))
    }

    /// The built-in liveness answer, `{"status":"ok"}`.
    public static var healthy: HTTPServerResponse {
        json(200, .object(["status": .string("ok")]))
    }
}
