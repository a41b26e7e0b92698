/// A complete HTTP response (any status: 4xx and 5xx are responses, not errors).
public struct HTTPResponse: Sendable {
    /// The status code of the final response.
    public var status: Int
    /// Header fields of the final response, in order, names as sent.
    public var headers: [(String, String)]
    /// The body, at most the request's `maxResponseBytes`.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (case-insensitive), if present.
    public func value(forHeader name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }
}
