/// The status line and headers of an HTTP/1.1 response, as parsed by ``HTTPResponseHeadParser``.
public struct HTTPResponseHead: Sendable, Equatable {
    /// The status code, e.g. 101.
    public var status: Int
    /// The reason phrase, possibly empty.
    public var reason: String
    /// The header fields in order received; names as sent, values without surrounding whitespace.
    public var headers: [(name: String, value: String)]

    /// Creates a response head.
    public init(status: Int, reason: String, headers: [(name: String, value: String)]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    /// The value of header `name` (case-insensitive); several fields of that name are joined with
    /// ", " as RFC 9110 §5.3 allows. `nil` when absent.
    public func header(_ name: String) -> String? {
        var result: String?
        for field in headers where ASCII.equalsIgnoringCase(field.name, name) {
            if let existing = result {
                result = existing + ", " + field.value
            } else {
                result = field.value
            }
        }
        return result
    }

    /// Equal when status, reason and every header (in order, names compared exactly) are equal.
    public static func == (lhs: HTTPResponseHead, rhs: HTTPResponseHead) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}
