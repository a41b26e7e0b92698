/// Receives a `ByteStream`'s events, on its loop's thread.
///
/// The stream holds its delegate strongly until it has delivered `stream(_:didClose:)`, then
/// lets go of it, so an owner that keeps its stream does not leak.
public protocol ByteStreamDelegate: AnyObject {
    /// TCP is connected and, for TLS, the handshake (including verification) succeeded.
    func streamDidConnect(_ s: ByteStream)
    /// Bytes arrived. `bytes` is valid only during the call: the stream reuses one 64 KiB
    /// read buffer (no allocation per read). Copy what you keep.
    func stream(_ s: ByteStream, didRead bytes: UnsafeRawBufferPointer)
    /// The write buffer emptied after having been above `writeHighWaterMark` (backpressure:
    /// stop producing when `pendingWriteBytes` is high, resume here).
    func streamDidDrain(_ s: ByteStream)
    /// The stream is closed; called exactly once, on a later loop iteration than the call or
    /// event that closed it. `nil` means orderly: EOF from the peer, `close()` or `abort()`.
    func stream(_ s: ByteStream, didClose error: TransportError?)
}
