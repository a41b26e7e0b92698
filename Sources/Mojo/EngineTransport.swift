import SocketIO

/// One Engine.IO transport (WebSocket or HTTP long-polling) as the connection driver sees it:
/// Engine.IO packets in and out, and one report of how it ended. Public as a seam: unit tests
/// drive a `TenantSession` through a scripted transport, without sockets.
public protocol EngineTransport: AnyObject {
    /// `websocket` or `polling`.
    var name: String { get }
    /// Queues one packet for the server.
    func send(_ packet: EnginePacket)
    /// Closes gracefully; the delegate hears `didClose` once.
    func close()
    /// Drops the connection at once, without reporting to the delegate.
    func abort()
    /// Stops (true) or restarts (false) taking packets from the server: backpressure from a
    /// consumer slower than the server. Packets still go out while paused.
    func setReadingPaused(_ paused: Bool)
}

extension EngineTransport {
    /// By default a transport keeps reading (a transport that cannot pause).
    public func setReadingPaused(_ paused: Bool) {}
}

/// What an `EngineTransport` reports, on the event loop.
public protocol EngineTransportDelegate: AnyObject {
    /// The transport is ready to carry packets (WebSocket upgraded, or polling session open).
    func transportDidOpen(_ transport: EngineTransport)
    /// One Engine.IO packet arrived.
    func transport(_ transport: EngineTransport, didReceive packet: EnginePacket)
    /// The transport ended: `nil` for an orderly close, else why. Reported exactly once.
    func transport(_ transport: EngineTransport, didClose failure: ConnectionFailure?)
}
