#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JSON
import Testing
import TestSupport

/// Issue 16, failure 3: the live view (`GET /v1/status`, `mojo-bridge status`), progress lines
/// while a backlog drains, and the gap notice (`bridge:gap`) when a reconnect was not recovered.
@Suite struct LiveViewTests {
    let world = DemoWorld.shared

    static func adminPort(_ p: BridgeProcess) throws -> Int {
        #expect(p.waitForStderr("admin server listening"))
        let line = try #require(p.stderr.split(separator: "\n").first { $0.contains("admin server listening") })
        return try #require(line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) })
    }

    static func status(port: Int) throws -> JSONValue {
        let r = try BridgeProcess.run(["status", "--url", "http://127.0.0.1:\(port)", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONValue(parsing: r.stdout)
    }

    static func deliveries(_ r: PythonPeer, count: Int, wait: Int = 15) throws -> [JSONValue] {
        try r.control.get("/control/deliveries?count=\(count)&wait=\(wait)").arrayValue ?? []
    }

    /// The envelope a webhook delivery carried.
    static func envelope(_ delivery: JSONValue) -> JSONValue? {
        guard let body = delivery["body"] else { return nil }
        if let text = body.stringValue { return try? JSONValue(parsing: text) }
        return body
    }

    // MARK: status

    /// Per tenant the session (state, transport, reconnects, recovered or not), per sink pending,
    /// in flight, dead, rate and the last error; the same as text (`--once`) and JSON (`--json`).
    @Test func statusShowsTheSessionAndEverySinkWithItsLastError() throws {
        let c = try world.newConversation()
        let receiver = try PythonPeer("webhook_receiver.py")
        _ = try receiver.control.post("/control/script", ["responses": [["status": 500]]])
        let d = try Daemon(rules: """
            admin { listen = "127.0.0.1:0" }
            sink hooks { type = webhook  url = "http://127.0.0.1:\(receiver.port)/hook"  allow_private = true  retry = [0s, 1h] }
            sink bot { type = pipe  command = ["/bin/cat"] }
            route r { conversation = ["\(c)"]  to = hooks }
            """)
        let port = try Self.adminPort(d.process)
        try world.post("fails once", to: c)
        #expect(d.process.waitForStderr("delivery failed; will retry"), "\(d.process.stderr)")

        let s = try Self.status(port: port)
        #expect(s["version"]?.stringValue?.isEmpty == false)
        #expect((s["uptimeSeconds"]?.doubleValue ?? -1) >= 0)
        let tenant = try #require(s["tenants"]?[0])
        #expect(tenant["tenant"]?.stringValue == "org_demo")
        #expect(tenant["state"]?.stringValue == "connected")
        #expect(tenant["transport"]?.stringValue == "websocket")
        #expect(tenant["reconnects"]?.intValue == 0)
        #expect(tenant["lastReconnectRecovered"]?.isNull == true)
        #expect(tenant["gaps"]?.intValue == 0)
        #expect(tenant["since"]?.stringValue?.hasSuffix("Z") == true)
        let sinks = s["sinks"]?.arrayValue ?? []
        let hooks = try #require(sinks.first { $0["sink"]?.stringValue == "hooks" }, "\(s.serialized())")
        #expect(hooks["kind"]?.stringValue == "webhook")
        #expect(hooks["state"]?.stringValue == "running")
        #expect(hooks["pending"]?.intValue == 1, "waiting for its retry in 1h: \(hooks.serialized())")
        #expect(hooks["inFlight"]?.intValue == 0)
        #expect(hooks["dead"]?.intValue == 0)
        #expect(hooks["lastError"]?.stringValue == "HTTP 500", "\(hooks.serialized())")
        #expect(hooks["ratePerSecond"]?.doubleValue != nil)
        #expect(hooks["childRestarts"] == nil, "a webhook has no children")
        let bot = try #require(sinks.first { $0["sink"]?.stringValue == "bot" })
        #expect(bot["childRestarts"]?.intValue == 0)
        #expect(bot["lastError"]?.isNull == true)
        #expect((s["spool"]?["bytes"]?.intValue ?? 0) > 0)

        let text = try BridgeProcess.run(["status", "--url", "http://127.0.0.1:\(port)", "--once"])
        #expect(text.status == 0, "\(text.stderr)")
        for expected in ["TENANT", "org_demo", "connected", "websocket", "SINK", "PENDING", "IN FLIGHT", "RATE/S", "hooks", "webhook",
                         "HTTP 500 (", "bot", "pipe"] {
            #expect(text.stdout.contains(expected), "\(expected) missing:\n\(text.stdout)")
        }
        // Without a token, like /metrics: it shows no secrets.
        #expect(try RawHTTP(port: port).send("GET", "/v1/status").status == 200)
        _ = d.stop()
        let gone = try BridgeProcess.run(["status", "--url", "http://127.0.0.1:\(port)", "--once"])
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("connect:"), "\(gone.stderr)")
    }

    @Test func statusRefusesAURLThatIsNotPlainHTTP() throws {
        let r = try BridgeProcess.run(["status", "--url", "https://127.0.0.1:9090", "--once"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--url must be http://HOST:PORT"), "\(r.stderr)")
        let help = try BridgeProcess.run(["status", "--help"])
        #expect(help.stdout.contains("--once") && help.stdout.contains("/v1/status"), "\(help.stdout)")
    }

    // MARK: gaps

    /// The dev server has no connection-state recovery: after a kick the reconnect is not
    /// recovered, so one warn line, one `bridge:gap` to the route asking for gaps (though it names
    /// a conversation), none to the route that does not, and the live view says so.
    @Test func aReconnectThatWasNotRecoveredSendsOneGapEvent() throws {
        // A dev server of its own: the kick must not disturb the daemons of other tests.
        let world = DemoWorld(server: try DevServer())
        let c = try world.newConversation()
        let receiver = try PythonPeer("webhook_receiver.py")
        let d = try Daemon(world: world, rules: """
            admin { listen = "127.0.0.1:0" }
            sink hooks { type = webhook  url = "http://127.0.0.1:\(receiver.port)/hook"  allow_private = true }
            route gaps { conversation = ["\(c)"]  events = [message, gap]  to = hooks }
            """)
        let port = try Self.adminPort(d.process)
        try world.control.post("/control/kick", ["userId": "user_bridge"])
        #expect(d.process.waitForStderr("msg=connected", occurrences: 2, timeout: 20), "\(d.process.stderr)")
        #expect(d.process.waitForStderr("reconnected without session recovery"), "\(d.process.stderr)")
        let warn = try #require(d.process.stderr.split(separator: "\n").first { $0.contains("reconnected without session recovery") })
        #expect(warn.contains("level=warn") && warn.contains("tenant=org_demo") && warn.contains("disconnected_at=")
                && warn.contains("reconnected_at=") && warn.contains("gap_ms="), "\(warn)")

        try world.post("after the gap", to: c)
        let got = try Self.deliveries(receiver, count: 2)
        let envelopes = got.compactMap(Self.envelope)
        #expect(envelopes.count == 2, "\(got)")
        let gap = try #require(envelopes.first { $0["type"]?.stringValue == "bridge:gap" }, "\(envelopes)")
        #expect(gap["tenant"]?.stringValue == "org_demo")
        #expect(gap["id"]?.stringValue?.hasPrefix("evt_") == true)
        let data = try #require(gap["data"])
        #expect(data["tenant"]?.stringValue == "org_demo")
        #expect(data["recovered"]?.boolValue == false)
        let from = try #require(data["disconnectedAt"]?.stringValue), to = try #require(data["reconnectedAt"]?.stringValue)
        #expect(from <= to && from.hasSuffix("Z") && to.hasSuffix("Z"), "\(data.serialized())")
        #expect((data["durationMs"]?.intValue ?? -1) >= 0)
        #expect(envelopes.contains { $0["type"]?.stringValue == "message:new" }, "\(envelopes)")

        let s = try Self.status(port: port)
        let tenant = try #require(s["tenants"]?[0])
        #expect(tenant["reconnects"]?.intValue == 1)
        #expect(tenant["lastReconnectRecovered"]?.boolValue == false)
        #expect(tenant["gaps"]?.intValue == 1)
        #expect(tenant["lastGap"]?["disconnectedAt"]?.stringValue == from)
        let metrics = try RawHTTP(port: port).send("GET", "/metrics").body
        #expect(metrics.contains("mojo_bridge_session_gaps_total{tenant=\"org_demo\"} 1"), "\(metrics)")
        #expect(!metrics.contains("bridge:gap"), "a gap is not an event received from MOJO")
        let text = try BridgeProcess.run(["status", "--url", "http://127.0.0.1:\(port)", "--once"])
        #expect(text.stdout.contains("NOT recovered"), "\(text.stdout)")
        #expect(d.stop() == 0)
    }

    /// Against a server with recovery (Tests/Peers/recovery_server.py): a recovered reconnect
    /// sends no gap (the missed event is replayed instead); once the server has forgotten the
    /// session, the next reconnect is not recovered and sends one.
    @Test func aRecoveredReconnectSendsNoGapAndAForgottenSessionDoes() throws {
        let peer = try RecoveryPeer()
        let receiver = try PythonPeer("webhook_receiver.py")
        let (token, _) = try peer.tokenFile()
        let conf = peer.dir + "/bridge.conf"
        try """
            server { url = "\(peer.url)"  transport = websocket }
            tenant \(RecoveryPeer.tenant) { token = file:\(token) }
            spool { dir = "\(peer.dir)/spool" }
            admin { listen = "127.0.0.1:0" }
            sink hooks { type = webhook  url = "http://127.0.0.1:\(receiver.port)/hook"  allow_private = true }
            route all { events = [message, gap]  to = hooks }
            """.write(toFile: conf, atomically: true, encoding: .utf8)
        let p = try BridgeProcess(["run", "--config", conf, "--log-level", "info"])
        defer { p.signal(SIGTERM); _ = p.wait(timeout: 20) }
        let port = try Self.adminPort(p)
        #expect(p.waitForStderr("msg=connected", timeout: 15), "\(p.stderr)")

        let e1 = RecoveryPeer.event("e1")
        try peer.emit(e1)
        #expect(try Self.deliveries(receiver, count: 1).count == 1)
        let e2 = RecoveryPeer.event("e2")
        #expect(try peer.drop(thenEmit: [e2])["dropped"]?.intValue == 1)
        #expect(p.waitForStderr("connected (session recovered)", timeout: 20), "\(p.stderr)")
        let recovered = try Self.deliveries(receiver, count: 2).compactMap(Self.envelope)
        #expect(recovered.map { $0["type"]?.stringValue } == ["message:new", "message:new"], "\(recovered)")
        #expect(recovered.last?["data"]?["marker"] == e2["marker"], "the missed event was replayed")
        let s = try Self.status(port: port)
        #expect(s["tenants"]?[0]?["lastReconnectRecovered"]?.boolValue == true, "\(s.serialized())")
        #expect(s["tenants"]?[0]?["gaps"]?.intValue == 0)
        #expect(!p.stderr.contains("without session recovery"), "\(p.stderr)")

        try peer.forget()
        let lost = RecoveryPeer.event("lost")
        #expect(try peer.drop(thenEmit: [lost])["dropped"]?.intValue == 1)
        #expect(p.waitForStderr("reconnected without session recovery", timeout: 20), "\(p.stderr)")
        let all = try Self.deliveries(receiver, count: 3).compactMap(Self.envelope)
        #expect(all.count == 3, "\(all)")
        #expect(all.last?["type"]?.stringValue == "bridge:gap", "\(all)")
        #expect(all.last?["data"]?["tenant"]?.stringValue == RecoveryPeer.tenant)
        #expect(!all.contains { $0["data"]?["marker"] == lost["marker"] }, "the lost event cannot have arrived")
        let after = try Self.status(port: port)
        #expect(after["tenants"]?[0]?["lastReconnectRecovered"]?.boolValue == false)
        #expect(after["tenants"]?[0]?["reconnects"]?.intValue == 2)
        #expect(after["tenants"]?[0]?["gaps"]?.intValue == 1)
    }

    // MARK: backlog progress

    /// A backlog of more than 100 events: a `backlog` line with pending, rate and ETA as soon as it
    /// is seen (then at most every 10 s), and one `backlog drained` line at the end. The pipe
    /// child reads nothing until the test opens its FIFO, so the backlog is certain.
    @Test func aDrainingBacklogLogsProgressAndOneDrainedLine() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-backlog")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/go"
        #expect(mkfifo(fifo, 0o600) == 0)
        let script = try Scripts.write("read _ < \"$1\"\nexec cat > \"$2\"", named: "held.sh", in: dir)
        let d = try Daemon(rules: """
            sink held { type = pipe  command = ["\(script)", "\(fifo)", "\(dir)/out"] }
            route r { conversation = ["\(c)"]  to = held }
            """)
        let count = 130
        for i in 0..<count { try world.post("backlog \(i)", to: c) }
        #expect(d.process.waitForStderr("msg=backlog ", timeout: 20), "\(d.process.stderr.suffix(3000))")
        let line = try #require(d.process.stderr.split(separator: "\n").first { $0.contains("msg=backlog ") })
        let pending = line.split(separator: " ").first { $0.hasPrefix("pending=") }.flatMap { Int($0.dropFirst(8)) }
        #expect((pending ?? 0) > 100, "\(line)")
        #expect(line.contains("sink=held") && line.contains("rate_per_s=") && line.contains("eta_s="), "\(line)")
        #expect(!d.process.stderr.contains("backlog drained"))

        // Let the child read: everything drains.
        let writer = try #require(FileHandle(forWritingAtPath: fifo))
        writer.write(Data("go\n".utf8))
        try writer.close()
        #expect(d.process.waitForStderr("backlog drained", timeout: 30), "\(d.process.stderr.suffix(3000))")
        let drained = try #require(d.process.stderr.split(separator: "\n").first { $0.contains("backlog drained") })
        #expect(drained.contains("sink=held") && drained.contains("delivered=") && drained.contains("took_s="), "\(drained)")
        #expect(d.process.stderr.components(separatedBy: "backlog drained").count == 2, "one drained line")
        #expect(d.stop() == 0)
    }
}
