/// How a `ByteStream` sets up TLS on top of TCP.
///
/// Streams with equal configurations (ignoring `serverName`) share one `SSL_CTX` per loop.
public struct TLSConfiguration: Hashable, Sendable {
    /// Verify the server's certificate chain and its name. Turning this off is for tests only.
    public var verifyPeer: Bool = true
    /// A PEM bundle of trusted CAs; `nil` uses the system store (`SSL_CTX_set_default_verify_paths`).
    public var caFile: String?
    /// ALPN protocols offered, most preferred first. Empty offers none.
    public var alpn: [String] = ["http/1.1"]
    /// The name sent as SNI and checked against the certificate; `nil` uses the host passed to
    /// `ByteStream.connect`. An IP literal is checked as an IP address (and sent without SNI).
    public var serverName: String?

    /// Creates a configuration; the defaults verify against the system store and offer `http/1.1`.
    public init(verifyPeer: Bool = true, caFile: String? = nil, alpn: [String] = ["http/1.1"], serverName: String? = nil) {
        self.verifyPeer = verifyPeer
        self.caFile = caFile
        self.alpn = alpn
        self.serverName = serverName
    }

    /// The part of the configuration that lives in the `SSL_CTX` (everything but the name).
    var contextKey: TLSConfiguration {
        var key = self
        key.serverName = nil
        return key
    }
}
