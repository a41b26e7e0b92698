import Testing
@testable import HTTP

@Suite struct HTTPServerResponseTests {
    private func encoded(_ response: HTTPServerResponse, close: Bool = false, date: String? = nil,
                         omitBody: Bool = false) throws -> String {
        var out: [UInt8] = []
        try response.encode(into: &out, closeConnection: close, date: date, omitBody: omitBody)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func encodesStatusHeadersLengthAndBody() throws {
        let response = HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        #expect(response.reason == "OK")
        #expect(try encoded(response) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        #expect(try encoded(response, close: true, date: "Sun, 06 Nov 1994 08:49:37 GMT")
            == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        #expect(try encoded(response, omitBody: true) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")
    }

    @Test func framingHeadersFromTheCallerAreReplaced() throws {
        let response = HTTPServerResponse(status: 404, headers: [("content-length", "999"), ("Transfer-Encoding", "chunked"),
                                                                 ("Connection", "keep-alive")], body: Array("no".utf8))
        #expect(try encoded(response) == "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno")
    }

    @Test func noContentHasNoLength() throws {
        #expect(try encoded(HTTPServerResponse(status: 204)) == "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(try encoded(HTTPServerResponse(status: 100)) == "HTTP/1.1 100 Continue\r\n\r\n")
    }

    @Test func refusesInjection() {
        var out: [UInt8] = []
        #expect(throws: HTTPServerResponse.EncodingError.invalidHeaderValue(name: "X")) {
            try HTTPServerResponse(status: 200, headers: [("X", "a\r\nSet-Cookie: evil")]).encode(into: &out)
        }
        #expect(throws: HTTPServerResponse.EncodingError.invalidHeaderName("X\r\nY")) {
            try HTTPServerResponse(status: 200, headers: [("X\r\nY", "a")]).encode(into: &out)
        }
        #expect(throws: HTTPServerResponse.EncodingError.invalidHeaderName("")) {
            try HTTPServerResponse(status: 200, headers: [("", "a")]).encode(into: &out)
        }
        #expect(throws: HTTPServerResponse.EncodingError.invalidStatusLine) {
            try HTTPServerResponse(status: 200, reason: "OK\r\nX: y").encode(into: &out)
        }
        #expect(throws: HTTPServerResponse.EncodingError.invalidStatusLine) {
            try HTTPServerResponse(status: 42).encode(into: &out)
        }
        #expect(out.isEmpty)
    }

    @Test func roundTripsThroughTheParserShape() throws {
        // The response head obeys the same grammar the request parser enforces for fields.
        let text = try encoded(HTTPServerResponse.text(503, "busy"), close: true)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(lines.first == "HTTP/1.1 503 Service Unavailable")
        for line in lines.dropFirst().prefix(while: { !$0.isEmpty }) {
            #expect(throws: Never.self) { _ = try HTTPHeadBuilder.field(ArraySlice(line.utf8)) }
        }
        #expect(lines.last == "busy")
    }

    @Test func imfFixdate() {
        #expect(HTTPDate.format(unixSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(unixSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(unixSeconds: 1_709_210_096) == "Thu, 29 Feb 2024 12:34:56 GMT")
    }
}
