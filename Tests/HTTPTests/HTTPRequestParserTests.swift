import Testing
@testable import HTTP

/// Feeds `text` whole, byte by byte, and in every two-piece split; all must give `expected`.
private func parseAllWays(_ text: String, limits: HTTPRequestParser.Limits = .init()) throws -> [HTTPServerRequest] {
    let bytes = Array(text.utf8)
    var whole = HTTPRequestParser(limits: limits)
    whole.append(bytes)
    var expected: [HTTPServerRequest] = []
    while let request = try whole.next() { expected.append(request) }

    var drip = HTTPRequestParser(limits: limits)
    var dripped: [HTTPServerRequest] = []
    for byte in bytes {
        drip.append([byte])
        while let request = try drip.next() { dripped.append(request) }
    }
    #expect(dripped == expected)
    #expect(!drip.hasPartialRequest)
    for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 16)) {
        var split = HTTPRequestParser(limits: limits)
        var got: [HTTPServerRequest] = []
        split.append(bytes[..<cut])
        while let request = try split.next() { got.append(request) }
        split.append(bytes[cut...])
        while let request = try split.next() { got.append(request) }
        #expect(got == expected, "split at \(cut)")
    }
    return expected
}

@Suite struct HTTPRequestParserTests {
    @Test func simpleGetWithQuery() throws {
        let requests = try parseAllWays("GET /metrics/a%20b?x=1&name=caf%C3%A9+au+lait&flag HTTP/1.1\r\nHost: localhost\r\nX-Thing:  padded \t\r\n\r\n")
        let request = try #require(requests.first)
        #expect(requests.count == 1)
        #expect(request.head.method == "GET")
        #expect(request.head.target == "/metrics/a%20b?x=1&name=caf%C3%A9+au+lait&flag")
        #expect(request.head.path == "/metrics/a b")
        #expect(request.head.query.map { "\($0.0)=\($0.1)" } == ["x=1", "name=café au lait", "flag="])
        #expect(request.head.version == .http11)
        #expect(request.head.header("x-thing") == "padded")
        #expect(request.head.header("HOST") == "localhost")
        #expect(request.body.isEmpty)
        #expect(request.keepAlive)
    }

    @Test func contentLengthBody() throws {
        let requests = try parseAllWays("POST /commands HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(requests.map { String(decoding: $0.body, as: UTF8.self) } == ["hello world"])
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        let text = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"
            + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
        let requests = try parseAllWays(text)
        #expect(requests.count == 2)
        #expect(String(decoding: requests[0].body, as: UTF8.self) == "hello 0123456789")
        #expect(requests[1].head.path == "/next")
    }

    @Test func pipelinedInBulk() throws {
        var text = ""
        for index in 0..<50 {
            text += index % 2 == 0
                ? "GET /r\(index) HTTP/1.1\r\nHost: h\r\n\r\n"
                : "POST /r\(index) HTTP/1.1\r\nHost: h\r\nContent-Length: \(String(index).count)\r\n\r\n\(index)"
        }
        let requests = try parseAllWays(text)
        #expect(requests.map(\.head.path) == (0..<50).map { "/r\($0)" })
        #expect(requests[49].body == Array("49".utf8))
    }

    @Test func leadingEmptyLinesAreSkipped() throws {
        let requests = try parseAllWays("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(requests.map(\.head.path) == ["/"])
    }

    @Test func keepAliveSemantics() throws {
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n", false),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        ]
        for (text, keepAlive) in cases {
            let request = try #require(try parseAllWays(text).first)
            #expect(request.keepAlive == keepAlive, "\(text)")
        }
    }

    @Test func absoluteAndAsteriskTargets() throws {
        let absolute = try #require(try parseAllWays("GET http://example.com:9090/healthz?a=b HTTP/1.1\r\nHost: example.com\r\n\r\n").first)
        #expect(absolute.head.path == "/healthz")
        #expect(absolute.head.query.first?.1 == "b")
        let bare = try #require(try parseAllWays("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").first)
        #expect(bare.head.path == "/")
        let star = try #require(try parseAllWays("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").first)
        #expect(star.head.path == "*")
    }

    @Test func expectContinueHeadIsVisibleBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.pendingHead?.expectsContinue == true)
        #expect(parser.hasPartialRequest)
        parser.append(Array("abc".utf8))
        #expect(try parser.next()?.body == Array("abc".utf8))
        #expect(parser.pendingHead == nil)
        #expect(!parser.hasPartialRequest)
    }

    @Test func repeatedIdenticalContentLengthIsAccepted() throws {
        let requests = try parseAllWays("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok")
        #expect(requests.first?.body == Array("ok".utf8))
    }

    @Test func bodyExactlyAtTheLimitIsAccepted() throws {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 64, maxBodyBytes: 4)
        let requests = try parseAllWays("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd", limits: limits)
        #expect(requests.first?.body == Array("abcd".utf8))
        let chunked = try parseAllWays("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n",
                                       limits: HTTPRequestParser.Limits(maxHeadBytes: 128, maxBodyBytes: 4))
        #expect(chunked.first?.body == Array("abcd".utf8))
    }
}
