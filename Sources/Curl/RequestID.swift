/// Identifies a request started by `CurlMulti.perform`, for `CurlMulti.cancel`.
public struct RequestID: Hashable, Sendable {
    /// Unique per `CurlMulti`.
    public let rawValue: UInt64

    /// Wraps a raw identifier.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }
}
