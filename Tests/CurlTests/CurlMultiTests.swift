import Glibc
import Testing
@testable import Curl
import Transport

@Suite struct CurlMultiTests {
    /// Runs the requests concurrently on a fresh loop; returns results in request order.
    private func perform(_ requests: [HTTPRequest], timeoutMs: Int = 20_000) throws -> [Result<HTTPResponse, HTTPError>?] {
        let loop = try EventLoop()
        let curl = CurlMulti(loop: loop)
        var results = [Result<HTTPResponse, HTTPError>?](repeating: nil, count: requests.count)
        var remaining = requests.count
        for (index, request) in requests.enumerated() {
            curl.perform(request) { result in
                results[index] = result
                remaining -= 1
                if remaining == 0 { loop.stop() }
            }
        }
        var timedOut = false
        let safety = loop.schedule(afterMilliseconds: timeoutMs) { timedOut = true; loop.stop() }
        try loop.run()
        loop.cancel(safety)
        #expect(!timedOut)
        #expect(curl.activeRequests == 0)
        return results
    }

    @Test func getReturnsStatusHeadersAndBody() throws {
        let server = try TestHTTPServer()
        let request = HTTPRequest(url: server.url("/hello"), headers: [("X-Custom", "abc")])
        let response = try #require(try perform([request])[0]).get()
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello")
        #expect(response.value(forHeader: "x-test") == "yes")
        #expect(response.value(forHeader: "X-Seen-Custom") == "abc")
    }

    @Test func postSendsTheBody() throws {
        let server = try TestHTTPServer()
        let body = Array("40{\"token\":\"t\"}\u{1e}2".utf8) + [0, 255]
        let request = HTTPRequest(method: "POST", url: server.url("/echo"),
                                  headers: [("Content-Type", "text/plain;charset=UTF-8")], body: body)
        let response = try #require(try perform([request])[0]).get()
        #expect(response.status == 201)
        #expect(response.body == body)
        #expect(response.value(forHeader: "X-Method") == "POST")
        #expect(response.value(forHeader: "X-Content-Type") == "text/plain;charset=UTF-8")
    }

    @Test func requestsRunConcurrently() throws {
        let server = try TestHTTPServer()
        // The server answers only once all five are in flight together: one after the other,
        // each would wait alone and get 504. No clock involved.
        let results = try perform((0..<5).map { _ in HTTPRequest(url: server.url("/barrier?key=five&n=5"), timeoutMs: 30_000) })
        for result in results {
            #expect(try #require(result).get().status == 200)
        }
    }

    @Test func sequentialRequestsReuseTheConnection() throws {
        let server = try TestHTTPServer()
        let loop = try EventLoop()
        let curl = CurlMulti(loop: loop)
        var ports: [String] = []
        func next() {
            curl.perform(HTTPRequest(url: server.url("/port"))) { result in
                ports.append((try? String(decoding: result.get().body, as: UTF8.self)) ?? "error")
                if ports.count < 3 { next() } else { loop.stop() }
            }
        }
        next()
        try loop.run()
        #expect(ports.count == 3)
        #expect(!ports.contains("error"))
        #expect(Set(ports).count == 1)
    }

    @Test func timeoutIsReported() throws {
        let server = try TestHTTPServer()
        let request = HTTPRequest(url: server.url("/delay?ms=3000"), timeoutMs: 300)
        let result = try #require(try perform([request])[0])
        guard case .failure(let error) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        #expect(error.code == 28) // CURLE_OPERATION_TIMEDOUT
        #expect(error.message.contains("Timeout") || error.message.contains("timed out"))
        #expect(error.url == request.url)
    }

    @Test func connectionRefusedIsReported() throws {
        // A bound but not listening socket: connections to its port are refused.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let request = HTTPRequest(url: "http://127.0.0.1:\(port)/")
        let result = try #require(try perform([request])[0])
        guard case .failure(let error) = result else {
            Issue.record("expected connection refused, got \(result)")
            return
        }
        #expect(error.code == 7) // CURLE_COULDNT_CONNECT
        #expect(error.message.hasPrefix("Couldn't connect to server"))
        #expect(error.message.contains("\(port)"))
    }

    @Test(arguments: ["/big?n=300000", "/chunked?n=300000"])
    func oversizedResponseIsRefused(path: String) throws {
        let server = try TestHTTPServer()
        let request = HTTPRequest(url: server.url(path), maxResponseBytes: 100_000)
        let result = try #require(try perform([request])[0])
        guard case .failure(let error) = result else {
            Issue.record("expected a size error, got \(result)")
            return
        }
        #expect(error.message == "response larger than maxResponseBytes (100000)")
        let fits = try #require(try perform([HTTPRequest(url: server.url(path), maxResponseBytes: 300_000)])[0]).get()
        #expect(fits.body.count == 300_000)
    }

    @Test func headerInjectionIsRejected() throws {
        let request = HTTPRequest(url: "http://127.0.0.1:9/", headers: [("X-A", "b\r\nX-Evil: 1")])
        let result = try #require(try perform([request])[0])
        guard case .failure(let error) = result else {
            Issue.record("expected a rejection, got \(result)")
            return
        }
        #expect(error.message.contains("CR, LF"))
        #expect(HTTPRequest(url: "x", headers: [("X\nA", "b")]).validationFailure != nil)
        #expect(HTTPRequest(method: "GE T", url: "x").validationFailure != nil)
        #expect(HTTPRequest(url: "x", headers: [("X-Ok", "fine")]).validationFailure == nil)
    }

    @Test func redirectsAreNotFollowedByDefault() throws {
        let server = try TestHTTPServer()
        let results = try perform([HTTPRequest(url: server.url("/redirect")),
                                   HTTPRequest(url: server.url("/redirect"), followRedirects: true)])
        #expect(try #require(results[0]).get().status == 302)
        #expect(try #require(results[1]).get().status == 200)
    }

    @Test func cancelledRequestNeverCompletes() throws {
        let server = try TestHTTPServer()
        let loop = try EventLoop()
        let curl = CurlMulti(loop: loop)
        var completions = 0
        let slow = curl.perform(HTTPRequest(url: server.url("/delay?ms=500"))) { _ in completions += 1 }
        curl.perform(HTTPRequest(url: server.url("/hello"))) { _ in
            curl.cancel(slow)
            // Give the cancelled transfer time it would need to finish, then stop.
            loop.schedule(afterMilliseconds: 800) { loop.stop() }
        }
        try loop.run()
        #expect(completions == 0)
        #expect(curl.activeRequests == 0)
    }

    @Test func missingLibcurlFailsEachRequestWithTheReason() throws {
        let loop = try EventLoop()
        var loads = 0
        let curl = CurlMulti(loop: loop) { () throws(HTTPError) -> LibCurl in
            loads += 1
            return try LibCurl.load("libcurl-missing.so.4")
        }
        var errors: [HTTPError] = []
        for path in ["/a", "/b"] {
            curl.perform(HTTPRequest(url: "http://127.0.0.1:9" + path)) { result in
                if case .failure(let error) = result { errors.append(error) }
                if errors.count == 2 { loop.stop() }
            }
        }
        let safety = loop.schedule(afterMilliseconds: 5_000) { loop.stop() }
        try loop.run()
        loop.cancel(safety)
        #expect(errors.map(\.url) == ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"])
        #expect(errors.allSatisfy { $0.code == 2 }) // CURLE_FAILED_INIT
        let message = try #require(errors.first?.message)
        #expect(message.hasPrefix("libcurl-missing.so.4 could not be loaded (libcurl-missing.so.4: cannot open shared object file"))
        #expect(message.hasSuffix("install libcurl4 for the polling transport and webhook sinks"))
        #expect(loads == 2) // not remembered as started: a later request tries again
        #expect(curl.activeRequests == 0)
        #expect(throws: HTTPError.self) { try curl.prepare() }
    }

    @Test func aClientDroppedWithFailuresPendingNeverCallsBack() throws {
        let loop = try EventLoop()
        var completions = 0
        do {
            let curl = CurlMulti(loop: loop) { () throws(HTTPError) -> LibCurl in try LibCurl.load("libcurl-missing.so.4") }
            curl.perform(HTTPRequest(url: "http://127.0.0.1:9/")) { _ in completions += 1 }
        }
        loop.schedule(afterMilliseconds: 50) { loop.stop() }
        try loop.run()
        #expect(completions == 0)
    }

    @Test func libcurlIsLoadedByTheFirstRequestNotByCreation() throws {
        let loop = try EventLoop()
        var loads = 0
        let curl = CurlMulti(loop: loop) { () throws(HTTPError) -> LibCurl in
            loads += 1
            return try LibCurl.shared()
        }
        #expect(loads == 0)
        try curl.prepare()
        #expect(loads == 1)
        let server = try TestHTTPServer()
        for _ in 0..<2 {
            curl.perform(HTTPRequest(url: server.url("/hello"))) { _ in if curl.activeRequests == 0 { loop.stop() } }
        }
        try loop.run()
        #expect(loads == 1)
    }
}
