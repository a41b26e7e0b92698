#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JSON
import Testing
import TestSupport

/// The admin HTTP API of a running daemon: health, readiness, metrics, inbound commands.
@Suite(.serialized) struct AdminAPITests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let world = DemoWorld.shared

    /// A daemon with a webhook sink `hooks` (to a receiver), an admin listener on a free port and
    /// a bearer token; returns it and the admin port.
    func start(conversation c: String) throws -> (Daemon, Int, PythonPeer) {
        let receiver = try PythonPeer("webhook_receiver.py")
        let dir = try RepoPaths.temporaryDirectory("mojo-admin")
        try "admin-token-123\n".write(toFile: dir + "/admin.token", atomically: true, encoding: .utf8)
        let d = try Daemon(rules: """
            admin { listen = "127.0.0.1:0"  token = file:\(dir)/admin.token }
            sink hooks { type = webhook  url = "http://127.0.0.1:\(receiver.port)/"  secret = env:HOOK_SECRET  allow_private = true }
            route r { conversation = ["\(c)"]  to = hooks  events = [message, typing, read] }
            """, environment: ["HOOK_SECRET": Self.secret])
        let line = try #require(d.process.stderr.split(separator: "\n").first { $0.contains("admin server listening") })
        let port = try #require(line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) })
        return (d, port, receiver)
    }

    func signed(_ body: String, id: String, timestamp: Int? = nil) throws -> [(String, String)] {
        let ts = timestamp ?? Int(Date().timeIntervalSince1970)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RepoPaths.python)
        p.arguments = ["-c", "import base64,hmac,hashlib,sys; k=base64.b64decode(sys.argv[1][6:]); print(base64.b64encode(hmac.new(k, (sys.argv[2]+'.'+sys.argv[3]+'.'+sys.argv[4]).encode(), hashlib.sha256).digest()).decode())",
                       Self.secret, id, String(ts), body]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let sig = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return [("webhook-id", id), ("webhook-timestamp", String(ts)), ("webhook-signature", "v1," + sig)]
    }

    @Test func healthReadinessAndMetrics() throws {
        let c = try world.newConversation()
        let (d, port, _) = try start(conversation: c)
        let admin = RawHTTP(port: port)
        #expect(try admin.send("GET", "/healthz").status == 200)
        let ready = try admin.send("GET", "/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        try world.post("count me", to: c)
        #expect(d.process.waitForStderr("sink=hooks event=message:new"))
        let metrics = try admin.send("GET", "/metrics")
        #expect(metrics.status == 200)
        let text = metrics.body
        #expect(text.contains("# TYPE mojo_bridge_session_connected gauge"))
        #expect(text.contains("mojo_bridge_session_connected{tenant=\"org_demo\"} 1"))
        #expect(text.contains("mojo_bridge_events_received_total{tenant=\"org_demo\",type=\"message:new\"}"))
        #expect(text.contains("mojo_bridge_spool_pending{sink=\"hooks\"}"))
        #expect(text.contains("mojo_bridge_delivery_latency_seconds_bucket{sink=\"hooks\",le=\"+Inf\"}"))
        // Every sample line parses as `name{labels} number`.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let value = line.split(separator: " ").last.map(String.init) ?? ""
            #expect(Double(value) != nil, "unparsable sample: \(line)")
        }
        #expect(d.stop() == 0)
    }

    @Test func aSignedReplyIsSentAndAnsweredWithTheMessageId() throws {
        let c = try world.newConversation()
        let (d, port, _) = try start(conversation: c)
        let body = #"{"type":"message:send","data":{"conversationId":"\#(c)","content":"async reply"}}"#
        let r = try RawHTTP(port: port).send("POST", "/v1/sinks/hooks/commands", body: body, headers: try signed(body, id: "in_msg_1"))
        #expect(r.status == 200, "\(r.body)")
        let json = try JSONValue(parsing: r.body)
        #expect(json["status"]?.stringValue == "message:sent")
        let messages = try world.messages(in: c)
        #expect(messages.last?["content"]?.stringValue == "async reply")
        #expect(json["messageId"]?.stringValue == messages.last?["id"]?.stringValue)
        // The same webhook-id again is a replay.
        let replay = try RawHTTP(port: port).send("POST", "/v1/sinks/hooks/commands", body: body, headers: try signed(body, id: "in_msg_1"))
        #expect(replay.status == 409)
        #expect(d.stop() == 0)
    }

    @Test func unauthenticatedStaleOrMalformedRequestsAreRefused() throws {
        let c = try world.newConversation()
        let (d, port, _) = try start(conversation: c)
        let admin = RawHTTP(port: port)
        let body = #"{"type":"typing:start","data":{"conversationId":"\#(c)"}}"#
        #expect(try admin.send("POST", "/v1/sinks/hooks/commands", body: body).status == 401)
        var forged = try signed(body, id: "in_msg_2")
        forged[2].1 = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        #expect(try admin.send("POST", "/v1/sinks/hooks/commands", body: body, headers: forged).status == 401)
        let stale = try signed(body, id: "in_msg_3", timestamp: Int(Date().timeIntervalSince1970) - 3600)
        #expect(try admin.send("POST", "/v1/sinks/hooks/commands", body: body, headers: stale).status == 401)
        #expect(try admin.send("POST", "/v1/sinks/hooks/commands", body: body, headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(try admin.send("POST", "/v1/sinks/hooks/commands", body: "{nope", headers: [("Authorization", "Bearer admin-token-123")]).status == 400)
        let unknown = #"{"type":"message:nuke","data":{}}"#
        #expect(try admin.send("POST", "/v1/sinks/hooks/commands", body: unknown, headers: [("Authorization", "Bearer admin-token-123")]).status == 400)
        #expect(try admin.send("POST", "/v1/sinks/nosuch/commands", body: body, headers: [("Authorization", "Bearer admin-token-123")]).status == 404)
        let since = try world.latestEventSeq()
        let ok = try admin.send("POST", "/v1/sinks/hooks/commands", body: body, headers: [("Authorization", "Bearer admin-token-123")])
        #expect(ok.status == 202, "\(ok.body)")
        #expect(try world.awaitClientEvents(since: since, name: "typing:start") { $0["userId"]?.stringValue == DemoWorld.bridgeUser }.count == 1)
        // The daemon is unharmed: still healthy.
        #expect(try admin.send("GET", "/healthz").status == 200)
        #expect(!d.process.stderr.contains("admin-token-123"))
        #expect(d.stop() == 0)
    }

    @Test func deadLettersAreRetriedThroughTheAdminAPI() throws {
        let c = try world.newConversation()
        let (d, port, receiver) = try start(conversation: c)
        try receiver.control.post("/control/script", ["responses": [["status": 400]]])
        try world.post("first refused", to: c)
        #expect(d.process.waitForStderr("dead-lettered"), "\(d.process.stderr)")
        let admin = RawHTTP(port: port)
        #expect(try admin.send("POST", "/v1/spool/hooks/retry").status == 401)
        let r = try admin.send("POST", "/v1/spool/hooks/retry", headers: [("Authorization", "Bearer admin-token-123")])
        #expect(r.status == 200 && r.body.contains("\"retried\":1"), "\(r.body)")
        let got = try receiver.control.get("/control/deliveries?count=2&wait=10").arrayValue ?? []
        #expect(got.count == 2 && got[0]["id"]?.stringValue == got[1]["id"]?.stringValue)
        #expect(try admin.send("POST", "/v1/spool/nosuch/retry", headers: [("Authorization", "Bearer admin-token-123")]).status == 404)
        #expect(d.stop() == 0)
    }

    @Test func readinessSaysWhyWhenATenantIsDown() throws {
        let c = try world.newConversation()
        let token = try world.tokenFile()
        let d = try Daemon(rules: """
            admin { listen = "127.0.0.1:0" }
            tenant org_elsewhere { token = file:\(token) }
            sink bot { type = pipe  command = ["\(Scripts.autoresponder)"] }
            route r { conversation = ["\(c)"]  to = bot }
            """)
        #expect(d.process.waitForStderr("tenant not allowed"))
        let line = try #require(d.process.stderr.split(separator: "\n").first { $0.contains("admin server listening") })
        let port = try #require(line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) })
        let r = try RawHTTP(port: port).send("GET", "/readyz")
        #expect(r.status == 503)
        #expect(r.body.contains("tenant org_elsewhere not connected"))
        #expect(d.stop() == 0)
    }
}

/// A minimal HTTP/1.1 client for the admin API (one request per connection).
struct RawHTTP {
    let port: Int

    func send(_ method: String, _ path: String, body: String = "", headers: [(String, String)] = []) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw DevServerError.control("connect to admin port \(port) failed") }
        var req = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for (k, v) in headers { req += "\(k): \(v)\r\n" }
        req += "\r\n" + body
        let bytes = Array(req.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buf[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let bodyText = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, bodyText)
    }
}
