import Testing
@testable import HTTP

/// Parses `text` whole and byte by byte; both must fail with `error`, and stay failed.
private func expectFailure(_ text: String, _ error: HTTPParseError, limits: HTTPRequestParser.Limits = .init(),
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let bytes = Array(text.utf8)
    var whole = HTTPRequestParser(limits: limits)
    whole.append(bytes)
    #expect(throws: error, sourceLocation: sourceLocation) { while try whole.next() != nil {} }
    #expect(throws: error, sourceLocation: sourceLocation) { _ = try whole.next() }

    var drip = HTTPRequestParser(limits: limits)
    var thrown: HTTPParseError?
    for byte in bytes where thrown == nil {
        drip.append([byte])
        do {
            while try drip.next() != nil {}
        } catch {
            thrown = error
        }
    }
    #expect(thrown == error, "byte by byte", sourceLocation: sourceLocation)
}

@Suite struct HTTPParseErrorTests {
    private let small = HTTPRequestParser.Limits(maxHeadBytes: 64, maxBodyBytes: 8)

    @Test func headTooLargeIs431() {
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n",
                      .headTooLarge(limit: 64), limits: small)
        // Without any line end at all: refused once the limit is passed, not at the end.
        expectFailure("GET /" + String(repeating: "a", count: 100), .headTooLarge(limit: 64), limits: small)
        #expect(HTTPParseError.headTooLarge(limit: 1).status == 431)
    }

    @Test func bodyTooLargeIs413() {
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n", .bodyTooLarge(limit: 8), limits: small)
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n4\r\n",
                      .bodyTooLarge(limit: 8), limits: small)
        #expect(HTTPParseError.bodyTooLarge(limit: 1).status == 413)
    }

    @Test func requestLineErrors() {
        expectFailure("GET /\r\n\r\n", .malformedRequestLine)
        expectFailure("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", .malformedRequestLine)
        expectFailure("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", .malformedRequestLine)
        expectFailure("GET / HTTP/1.x\r\nHost: h\r\n\r\n", .malformedRequestLine)
        expectFailure("GET / FTP/1.1\r\nHost: h\r\n\r\n", .malformedRequestLine)
        expectFailure("GET relative HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget)
        expectFailure("GET /a\u{7F}b HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget)
        expectFailure("GET / HTTP/2.0\r\nHost: h\r\n\r\n", .unsupportedVersion("HTTP/2.0"))
        #expect(HTTPParseError.unsupportedVersion("HTTP/2.0").status == 505)
    }

    @Test func lineEndingErrors() {
        expectFailure("GET / HTTP/1.1\nHost: h\r\n\r\n", .bareLineFeed)
        expectFailure("GET / HTTP/1.1\r\nHost: h\n\r\n", .bareLineFeed)
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\n\n", .bareLineFeed)
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", .invalidHeaderValue(name: "X"))
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n", .obsoleteLineFolding)
    }

    @Test func headerErrors() {
        expectFailure("GET / HTTP/1.1\r\nHost : h\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\nBad[Name]: x\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n", .invalidHeaderValue(name: "X"))
        expectFailure("GET / HTTP/1.1\r\n\r\n", .invalidHost)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .invalidHost)
    }

    @Test func framingErrors() {
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", .invalidContentLength)
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", .invalidContentLength)
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", .invalidContentLength)
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", .conflictingContentLength)
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n", .conflictingContentLength)
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                      .contentLengthWithTransferEncoding)
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                      .unsupportedTransferEncoding("gzip, chunked"))
        expectFailure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .invalidTransferEncoding)
        expectFailure("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .invalidTransferEncoding)
        #expect(HTTPParseError.unsupportedTransferEncoding("gzip").status == 501)
        #expect(HTTPParseError.invalidTransferEncoding.status == 400)
    }

    @Test func chunkErrors() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        expectFailure(head + "x\r\n", .invalidChunk)
        expectFailure(head + "\r\n", .invalidChunk)
        expectFailure(head + "1000000000000000\r\n", .invalidChunk)
        expectFailure(head + "3\r\nabcXY", .invalidChunk)
        expectFailure(head + "3\nabc", .bareLineFeed)
        expectFailure(head + String(repeating: "0", count: 2000), .invalidChunk)
        expectFailure(head + "0\r\nno colon\r\n\r\n", .invalidChunk)
    }

    @Test func everyErrorHasAStatusAndAMessage() {
        let all: [HTTPParseError] = [
            .headTooLarge(limit: 1), .bodyTooLarge(limit: 1), .malformedRequestLine, .invalidTarget,
            .unsupportedVersion("HTTP/9.9"), .bareLineFeed, .obsoleteLineFolding, .invalidHeaderName,
            .invalidHeaderValue(name: "X"), .invalidHost, .invalidContentLength, .conflictingContentLength,
            .contentLengthWithTransferEncoding, .unsupportedTransferEncoding("gzip"), .invalidTransferEncoding, .invalidChunk,
        ]
        for error in all {
            #expect([400, 413, 431, 501, 505].contains(error.status))
            #expect(!error.description.isEmpty)
        }
    }
}
