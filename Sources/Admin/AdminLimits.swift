/// Bounds that keep a misbehaving or malicious client from harming the daemon.
public struct AdminLimits: Sendable, Equatable {
    /// Connections served at once. At the limit a new connection makes room by dropping the oldest
    /// idle or slow one; only when every one is busy responding is the new one closed. Default 256.
    public var maxConnections: Int
    /// Request line plus headers, in bytes (431 above). Default 16 KiB.
    public var maxHeadBytes: Int
    /// Request body, in bytes (413 above). Default 1 MiB.
    public var maxBodyBytes: Int
    /// A keep-alive connection with no request under way is closed after this. Default 30 s.
    public var idleTimeoutMs: Int
    /// A request must arrive whole (head and body) within this from its first byte; else 408
    /// and close (slowloris). Default 10 s.
    public var requestTimeoutMs: Int
    /// The handler must respond within this; else 503 and close. Default 30 s.
    public var responseTimeoutMs: Int

    /// Creates limits; every parameter has the documented default.
    public init(maxConnections: Int = 256, maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 1 << 20,
                idleTimeoutMs: Int = 30_000, requestTimeoutMs: Int = 10_000, responseTimeoutMs: Int = 30_000) {
        self.maxConnections = maxConnections
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeoutMs = idleTimeoutMs
        self.requestTimeoutMs = requestTimeoutMs
        self.responseTimeoutMs = responseTimeoutMs
    }
}
