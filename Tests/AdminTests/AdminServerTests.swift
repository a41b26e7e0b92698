import Glibc
import Testing
import Admin
import HTTP
import Transport

@Suite struct AdminServerTests {
    @Test func healthzAndKeepAliveForTwoRequests() throws {
        let (result, server) = try withServer { port -> [String?] in
            let client = RawClient(port: port)
            client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = client.readResponse()
            client.send("GET /hello?name=ada HTTP/1.1\r\nHost: x\r\n\r\n")
            return [first, client.readResponse()]
        }
        let responses = try #require(result)
        #expect(status(responses[0]) == 200)
        #expect(body(responses[0]) == #"{"status":"ok"}"#)
        #expect(responses[0]?.contains("Content-Type: application/json") == true)
        #expect(responses[0]?.contains("Connection: close") == false)
        #expect(body(responses[1]) == "hello ada")
        #expect(server.rejectedConnections == 0)
    }

    @Test func pipelinedResponsesKeepRequestOrder() throws {
        let (result, _) = try withServer { port -> [String?] in
            let client = RawClient(port: port)
            client.send("GET /slow?ms=120 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping"
                + "GET /slow?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return (0..<4).map { _ in client.readResponse() } + [client.readsEOF() ? "EOF" : nil]
        }
        let responses = try #require(result)
        #expect(responses.prefix(4).map(body) == ["slept 120", "ping", "slept 10", "hello "])
        #expect(responses[3]?.contains("Connection: close") == true)
        #expect(responses[4] == "EOF")
    }

    @Test func malformedRequestGets400AndTheServerKeepsServing() throws {
        let (result, _) = try withServer { port -> [String?] in
            let bad = RawClient(port: port)
            bad.send("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
            let refused = bad.readResponse()
            let closed = bad.readsEOF()
            let bareLF = RawClient(port: port)
            bareLF.send("GET / HTTP/1.1\nHost: x\n\n")
            let second = bareLF.readResponse()
            let good = RawClient(port: port)
            good.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            return [refused, closed ? "EOF" : nil, second, good.readResponse()]
        }
        let responses = try #require(result)
        #expect(status(responses[0]) == 400)
        #expect(body(responses[0]) == #"{"error":"invalid header name"}"#)
        #expect(responses[0]?.contains("Connection: close") == true)
        #expect(responses[1] == "EOF")
        #expect(status(responses[2]) == 400)
        #expect(status(responses[3]) == 200)
    }

    @Test func sizeLimitsGive413And431() throws {
        let limits = AdminLimits(maxHeadBytes: 1024, maxBodyBytes: 100)
        let (result, _) = try withServer(limits: limits) { port -> [String?] in
            let large = RawClient(port: port)
            large.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + String(repeating: "z", count: 5000))
            let tooLarge = large.readResponse()
            let chunked = RawClient(port: port)
            chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" + String(repeating: "z", count: 128) + "\r\n0\r\n\r\n")
            let chunkedTooLarge = chunked.readResponse()
            let headers = RawClient(port: port)
            headers.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "h", count: 2000) + "\r\n\r\n")
            let headTooLarge = headers.readResponse()
            let gzip = RawClient(port: port)
            gzip.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            return [tooLarge, chunkedTooLarge, headTooLarge, gzip.readResponse()]
        }
        let responses = try #require(result)
        #expect(responses.map(status) == [413, 413, 431, 501])
        #expect(body(responses[0]) == #"{"error":"request body larger than 100 bytes"}"#)
    }

    @Test func chunkedBodyAndExpectContinue() throws {
        let (result, _) = try withServer { port -> [String?] in
            let client = RawClient(port: port)
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            let chunked = client.readResponse()
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = client.readResponse()
            client.send("hello")
            return [chunked, interim, client.readResponse()]
        }
        let responses = try #require(result)
        #expect(body(responses[0]) == "abcde")
        #expect(responses[1] == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(body(responses[2]) == "hello")
    }

    @Test func slowClientTimesOutWith408() throws {
        let limits = AdminLimits(requestTimeoutMs: 200)
        let (result, _) = try withServer(limits: limits) { port -> (String?, Int, Bool) in
            let client = RawClient(port: port)
            let start = nowMs()
            client.send("GET /hello HTTP/1.1\r\nHost:")
            // Dribbling bytes does not extend the deadline.
            for _ in 0..<3 {
                usleepMs(50)
                client.send(" ")
            }
            let response = client.readResponse()
            return (response, nowMs() - start, client.readsEOF())
        }
        let (response, elapsed, eof) = try #require(result)
        #expect(status(response) == 408)
        // Not before the deadline (dribbled bytes did not extend it); no upper bound: a loaded
        // machine may answer late, and the 408 itself shows the timer fired.
        #expect(elapsed >= 180)
        #expect(eof)
    }

    @Test func idleConnectionIsClosedQuietly() throws {
        let limits = AdminLimits(idleTimeoutMs: 150)
        let (result, _) = try withServer(limits: limits) { port -> (String?, Bool, Int) in
            let client = RawClient(port: port)
            client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = client.readResponse()
            let start = nowMs()
            return (response, client.readsEOF(), nowMs() - start)
        }
        let (response, eof, elapsed) = try #require(result)
        #expect(status(response) == 200)
        #expect(eof)
        #expect(elapsed >= 100)
    }

    @Test func connectionLimitClosesFurtherAcceptsWhenAllAreBusy() throws {
        let limits = AdminLimits(maxConnections: 2)
        let (result, server) = try withServer(limits: limits) { port -> [String?] in
            let first = RawClient(port: port)
            let second = RawClient(port: port)
            first.send("GET /slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n")
            second.send("GET /slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n")
            usleepMs(100) // both requests under way
            let third = RawClient(port: port)
            third.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let refused = third.readResponse()
            return [first.readResponse(), second.readResponse(), refused ?? "refused"]
        }
        let responses = try #require(result)
        #expect(responses.map(body) == ["slept 400", "slept 400", nil])
        #expect(responses[2] == "refused")
        #expect(server.rejectedConnections >= 1)
    }

    /// Issue 12 item 7: idle connections holding every slot used to refuse /healthz for the idle
    /// timeout; now the oldest idle one makes room and the probe is answered.
    @Test func idleFloodDoesNotLockOutAProbe() throws {
        let limits = AdminLimits(maxConnections: 8)
        let (result, server) = try withServer(limits: limits) { port -> [String?] in
            let idle = (0..<8).map { _ in RawClient(port: port) }
            var answers: [String?] = []
            for _ in 0..<3 {
                let probe = RawClient(port: port)
                probe.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answers.append(probe.readResponse())
            }
            // The oldest idle connection was the one shed first.
            answers.append(idle[0].readsEOF() ? "EOF" : nil)
            return answers
        }
        let answers = try #require(result)
        #expect(answers.prefix(3).map(status) == [200, 200, 200])
        #expect(answers[3] == "EOF")
        #expect(server.shedConnections >= 1)
        #expect(server.rejectedConnections == 0)
    }

    @Test func asynchronousRespondAndItsEdgeCases() throws {
        let limits = AdminLimits(responseTimeoutMs: 200)
        let (result, _) = try withServer(limits: limits) { port -> [String?] in
            let client = RawClient(port: port)
            client.send("GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n")
            let slow = client.readResponse()
            client.send("GET /twice HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let twice = client.readResponse()
            let after = client.readResponse()
            client.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n")
            let never = client.readResponse()
            return [slow, twice, after, never, client.readsEOF() ? "EOF" : nil]
        }
        let responses = try #require(result)
        #expect(body(responses[0]) == "slept 50")
        #expect(body(responses[1]) == "first")
        #expect(body(responses[2]) == "hello ")
        #expect(status(responses[3]) == 503)
        #expect(responses[4] == "EOF")
    }

    @Test func routingHeadAndHTTP10() throws {
        let (result, _) = try withServer { port -> [String?] in
            let client = RawClient(port: port)
            client.send("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
            let missing = client.readResponse()
            client.send("DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            let wrongMethod = client.readResponse()
            client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = client.readResponse(head: true)
            client.send("GET /bad HTTP/1.1\r\nHost: x\r\n\r\n")
            let invalid = client.readResponse()
            let old = RawClient(port: port)
            old.send("GET /healthz HTTP/1.0\r\n\r\n")
            return [missing, wrongMethod, head, invalid, old.readResponse(), old.readsEOF() ? "EOF" : nil]
        }
        let responses = try #require(result)
        #expect(status(responses[0]) == 404)
        #expect(status(responses[1]) == 405)
        #expect(responses[1]?.contains("Allow: POST") == true)
        #expect(status(responses[2]) == 200)
        #expect(responses[2]?.contains("Content-Length: 6") == true)
        #expect(body(responses[2]) == "")
        #expect(status(responses[3]) == 500)
        #expect(responses[3]?.contains("Injected") == false)
        #expect(status(responses[4]) == 200)
        #expect(responses[4]?.contains("Connection: close") == true)
        #expect(responses[5] == "EOF")
    }

    @Test func metricsAreScrapedInTheTextFormat() throws {
        let (result, _) = try withServer { port -> [String?] in
            let client = RawClient(port: port)
            client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            return [client.readResponse(), client.readResponse()]
        }
        let responses = try #require(result)
        #expect(responses[1]?.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8") == true)
        #expect(body(responses[0])?.contains("admin_test_scrapes_total{route=\"/metrics\"} 1\n") == true)
        #expect(body(responses[1]) == "# HELP admin_test_scrapes_total Scrapes served.\n# TYPE admin_test_scrapes_total counter\n"
            + "admin_test_scrapes_total{route=\"/metrics\"} 2\n")
    }

    @Test func listenErrors() throws {
        let loop = try EventLoop()
        let router = AdminRouter()
        #expect(throws: AdminServerError.invalidListenAddress("nonsense")) {
            try AdminServer(listen: "nonsense", loop: loop, handler: router)
        }
        #expect(throws: AdminServerError.invalidListenAddress("127.0.0.1:70000")) {
            try AdminServer(listen: "127.0.0.1:70000", loop: loop, handler: router)
        }
        let first = try AdminServer(listen: "127.0.0.1:0", loop: loop, handler: router)
        defer { first.close() }
        #expect(first.port > 0)
        do {
            _ = try AdminServer(listen: "127.0.0.1:\(first.port)", loop: loop, handler: router)
            Issue.record("second bind succeeded")
        } catch {
            guard case .listenFailed(let transport) = error else { return #expect(Bool(false)) }
            #expect(transport.message.contains("bind"))
        }
        #expect(throws: AdminServerError.self) { try AdminServer(listen: "example.com:80", loop: loop, handler: router) }
        let v6 = try AdminServer(listen: "[::1]:0", loop: loop, handler: router)
        #expect(v6.port > 0)
        v6.close()
    }
}

/// Sleeps the calling (client) thread.
func usleepMs(_ ms: Int) {
    var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    nanosleep(&request, nil)
}
