import HTTP

/// Answers the admin server's requests. One requirement; `AdminRouter` is a ready-made one.
///
/// Called on the event-loop thread. `respond` must be called exactly once, on the loop thread,
/// either before `handle` returns or later (after asynchronous work). Extra calls, and calls after
/// the server gave up waiting (`AdminLimits.responseTimeoutMs`) or after the client left, are
/// ignored. Requests on one connection are handed over one at a time, so responses always go
/// out in request order.
public protocol AdminHandler: AnyObject {
    /// Handles `request` from `peer` (`"127.0.0.1:51234"`).
    func handle(_ request: HTTPServerRequest, peer: String, respond: @escaping (HTTPServerResponse) -> Void)
}
