/// A response to encode onto a connection.
///
/// `encode(into:)` writes the status line, the headers as given, `Content-Length` (always: the
/// server never streams), optionally `Date` and `Connection: close`. Framing headers set by the
/// caller (`Content-Length`, `Transfer-Encoding`, `Connection`) are dropped so that the encoder
/// alone decides the framing.
public struct HTTPServerResponse: Sendable, Equatable {
    /// The status code, 100...999.
    public var status: Int
    /// The reason phrase; defaults to the standard phrase for `status`.
    public var reason: String
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: [UInt8]

    /// Creates a response; `reason` defaults to the standard phrase for `status`.
    public init(status: Int, reason: String? = nil, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.reason = reason ?? HTTPStatus.reason(for: status)
        self.headers = headers
        self.body = body
    }

    /// A response with a text body and `Content-Type: text/plain; charset=utf-8`.
    public static func text(_ status: Int, _ text: String) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// The first value of the header `name` (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { ASCIICase.equal($0.name, name) }?.value
    }

    /// Why a response could not be encoded.
    public enum EncodingError: Error, Sendable, Equatable {
        /// The status is outside 100...999 or `reason` contains CR, LF or another control character.
        case invalidStatusLine
        /// A header name is not a token.
        case invalidHeaderName(String)
        /// A header value contains CR, LF or another control character.
        case invalidHeaderValue(name: String)
    }

    /// Appends the encoded response to `out`; on error nothing is appended.
    ///
    /// - Parameters:
    ///   - closeConnection: adds `Connection: close`.
    ///   - date: the value for a `Date` header (an IMF-fixdate), or `nil` for none.
    ///   - omitBody: for `HEAD`: the headers (with the body's length) but no body.
    public func encode(into out: inout [UInt8], closeConnection: Bool = false, date: String? = nil,
                       omitBody: Bool = false) throws(EncodingError) {
        guard (100...999).contains(status), reason.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .invalidStatusLine
        }
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(HTTPHeadBuilder.isTokenByte) else { throw .invalidHeaderName(name) }
            guard value.utf8.allSatisfy(HTTPHeadBuilder.isValueByte) else { throw .invalidHeaderValue(name: name) }
        }
        if let date, !date.utf8.allSatisfy(HTTPHeadBuilder.isValueByte) { throw .invalidHeaderValue(name: "Date") }

        out.append(contentsOf: "HTTP/1.1 \(status) \(reason)\r\n".utf8)
        for (name, value) in headers where !Self.isFramingHeader(name) {
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if let date { out.append(contentsOf: "Date: \(date)\r\n".utf8) }
        // 1xx and 204 have no body and must not carry Content-Length; 304 is out of scope here.
        let bodyless = status < 200 || status == 204
        if !bodyless { out.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8) }
        if closeConnection { out.append(contentsOf: "Connection: close\r\n".utf8) }
        out.append(contentsOf: "\r\n".utf8)
        if !omitBody && !bodyless { out.append(contentsOf: body) }
    }

    /// Headers the encoder owns.
    static func isFramingHeader(_ name: String) -> Bool {
        ASCIICase.equal(name, "Content-Length") || ASCIICase.equal(name, "Transfer-Encoding")
            || ASCIICase.equal(name, "Connection")
    }

    public static func == (lhs: HTTPServerResponse, rhs: HTTPServerResponse) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.body == rhs.body
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}
