/// What the live view (`GET /v1/status`, `mojo-bridge status`) reads of a session.
extension TenantSession {
    /// The Engine.IO transport in use now (`websocket` or `polling`); nil between connections.
    public var transportName: String? {
        guard let engine, transport != nil else { return nil }
        return engine.transport == .polling ? "polling" : "websocket"
    }
}
