import HTTP

/// Routes requests by method and exact path (or path prefix) to closures: an `AdminHandler`.
///
/// `HEAD` is served by the `GET` route (the server drops the body). A known path with another
/// method gets 405 with `Allow`; an unknown path gets 404 `{"error":"not found"}`, which lets the
/// server's built-in routes (`GET /healthz`) answer. Loop-thread only.
public final class AdminRouter: AdminHandler {
    /// A route's body: the request, the peer, and the one-shot responder.
    public typealias Route = (_ request: HTTPServerRequest, _ peer: String,
                              _ respond: @escaping (HTTPServerResponse) -> Void) -> Void

    private struct Entry {
        var method: String
        var path: String
        var isPrefix: Bool
        var route: Route
    }

    private var entries: [Entry] = []

    /// Creates an empty router.
    public init() {}

    /// Routes `method path` (exact match) to `route`; a later registration of the same pair wins.
    public func add(_ method: String, _ path: String, _ route: @escaping Route) {
        entries.removeAll { $0.method == method && $0.path == path && !$0.isPrefix }
        entries.append(Entry(method: method, path: path, isPrefix: false, route: route))
    }

    /// Routes `method` for every path starting with `prefix` (exact routes are tried first).
    public func addPrefix(_ method: String, _ prefix: String, _ route: @escaping Route) {
        entries.append(Entry(method: method, path: prefix, isPrefix: true, route: route))
    }

    /// Shorthand for `add("GET", path, route)`.
    public func get(_ path: String, _ route: @escaping Route) {
        add("GET", path, route)
    }

    /// Shorthand for `add("POST", path, route)`.
    public func post(_ path: String, _ route: @escaping Route) {
        add("POST", path, route)
    }

    public func handle(_ request: HTTPServerRequest, peer: String, respond: @escaping (HTTPServerResponse) -> Void) {
        let path = request.head.path
        let method = request.head.method == "HEAD" ? "GET" : request.head.method
        let matching = entries.filter { $0.isPrefix ? path.hasPrefix($0.path) : path == $0.path }
        let exact = matching.filter { !$0.isPrefix }
        let candidates = exact.isEmpty ? matching : exact
        if let entry = candidates.first(where: { $0.method == method }) {
            entry.route(request, peer, respond)
            return
        }
        guard !candidates.isEmpty else { return respond(.jsonError(404, "not found")) }
        var allowed = Set(candidates.map(\.method))
        if allowed.contains("GET") { allowed.insert("HEAD") }
        var response = HTTPServerResponse.jsonError(405, "method not allowed")
        response.headers.append(("Allow", allowed.sorted().joined(separator: ", ")))
        respond(response)
    }
}
