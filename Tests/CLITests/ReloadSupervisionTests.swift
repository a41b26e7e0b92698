import Foundation
import JSON
import Testing
import TestSupport

/// Reload you can trust and supervision with backoff (issue 13, failures 4, 5, 9).
@Suite(.serialized) struct ReloadSupervisionTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let world = DemoWorld.shared

    func adminPort(_ d: Daemon) throws -> Int {
        let line = try #require(d.process.stderr.split(separator: "\n").first { $0.contains("admin server listening") })
        return try #require(line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) })
    }

    func hookRules(_ c: String, port: Int, retry: String) -> String {
        """
        sink hooks { type = webhook  url = "http://127.0.0.1:\(port)/"  allow_private = true  retry = \(retry) }
        route r { conversation = ["\(c)"]  to = hooks }
        """
    }

    /// Failure 4: a reload that changes only `retry` takes effect (the log line says what changed).
    @Test func aReloadOfRetryTakesEffect() throws {
        let c = try world.newConversation()
        let receiver = try PythonPeer("webhook_receiver.py")
        try receiver.control.post("/control/script", ["responses": [["status": 503]]])
        let d = try Daemon(rules: hookRules(c, port: receiver.port, retry: "[0s, 1h]"))
        try world.post("retry me", to: c)
        #expect((try receiver.control.get("/control/deliveries?count=1&wait=10").arrayValue ?? []).count == 1)
        #expect(d.process.waitForStderr("will retry"), "\(d.process.stderr)")
        // The next attempt is an hour away; with the new schedule it comes at once.
        #expect(try d.reload(rules: hookRules(c, port: receiver.port, retry: "[0s, 100ms, 100ms]")))
        let reloaded = d.process.stderr.split(separator: "\n").last { $0.contains("configuration reloaded") }.map(String.init) ?? ""
        #expect(reloaded.contains("hooks"), "\(reloaded)")
        let got = try receiver.control.get("/control/deliveries?count=2&wait=10").arrayValue ?? []
        #expect(got.count == 2, "\(d.process.stderr)")
        #expect(d.stop() == 0)
    }

    /// Failure 9: a sink disabled by 410 Gone delivers again after a reload.
    @Test func aSinkDisabledBy410DeliversAfterAReload() throws {
        let c = try world.newConversation()
        let receiver = try PythonPeer("webhook_receiver.py")
        try receiver.control.post("/control/script", ["responses": [["status": 410]]])
        let rules = hookRules(c, port: receiver.port, retry: "[0s, 100ms]")
        let d = try Daemon(rules: rules)
        try world.post("gone", to: c)
        #expect(d.process.waitForStderr("sink disabled"), "\(d.process.stderr)")
        #expect(try d.reload(rules: rules))
        try world.post("back", to: c)
        let got = try receiver.control.get("/control/deliveries?count=3&wait=10").arrayValue ?? []
        let bodies = got.compactMap { $0["body"]?.stringValue }
        #expect(bodies.contains { $0.contains("\"back\"") }, "\(bodies) \(d.process.stderr)")
        #expect(d.stop() == 0)
    }

    /// Failure 9: a rotated admin token file takes effect at once (file: secrets are re-read at use).
    @Test func aRotatedAdminTokenFileTakesEffect() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-rotate")
        try "first-token\n".write(toFile: dir + "/admin.token", atomically: true, encoding: .utf8)
        let d = try Daemon(rules: """
            admin { listen = "127.0.0.1:0"  token = file:\(dir)/admin.token }
            sink bot { type = pipe  command = ["\(Scripts.autoresponder)"] }
            route r { conversation = ["\(c)"]  to = bot }
            """)
        let admin = RawHTTP(port: try adminPort(d))
        #expect(try admin.send("POST", "/v1/spool/bot/retry", headers: [("Authorization", "Bearer first-token")]).status == 200)
        try "second-token\n".write(toFile: dir + "/admin.token", atomically: true, encoding: .utf8)
        #expect(try admin.send("POST", "/v1/spool/bot/retry", headers: [("Authorization", "Bearer second-token")]).status == 200)
        #expect(try admin.send("POST", "/v1/spool/bot/retry", headers: [("Authorization", "Bearer first-token")]).status == 401)
        #expect(d.stop() == 0)
    }

    /// Failure 5: a child that keeps dying is restarted with growing, capped delays, one log line
    /// per attempt, and the state shows in /metrics.
    @Test func aCrashLoopingChildIsRetriedWithGrowingDelays() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-crashloop")
        let dies = try Scripts.write("exit 3", named: "dies.sh", in: dir)
        let d = try Daemon(rules: """
            admin { listen = "127.0.0.1:0" }
            sink s { type = pipe  command = ["\(dies)"]  format = text }
            route r { conversation = ["\(c)"]  to = s }
            """)
        try world.post("wake the child", to: c)
        #expect(d.process.waitForStderr("restart_in_ms=", occurrences: 5, timeout: 20), "\(d.process.stderr)")
        let delays = d.process.stderr.split(separator: "\n").filter { $0.contains("pipe child") && $0.contains("restart_in_ms=") }
            .compactMap { line in line.split(separator: " ").first { $0.hasPrefix("restart_in_ms=") }.flatMap { Int($0.dropFirst(14)) } }
        try #require(delays.count >= 5)
        // Jittered, but the base doubles: the fifth wait is well above the first.
        #expect(delays[4] > delays[0] * 4, "\(delays)")
        let metrics = try RawHTTP(port: try adminPort(d)).send("GET", "/metrics").body
        #expect(metrics.contains("mojo_bridge_sink_child_restarts_total{sink=\"s\"}"), "\(metrics)")
        #expect(d.stop() == 0)
    }

    /// Failure 10: a child that closes its stdin but keeps running is reported at warn and restarted.
    @Test func aChildThatClosesItsStdinIsReportedAndRestarted() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-stdin")
        let closes = try Scripts.write("IFS= read -r l; echo \"got $l\"; exec 0<&-; while :; do sleep 1; done", named: "closes.sh", in: dir)
        let d = try Daemon(rules: """
            sink s { type = pipe  command = ["\(closes)"]  format = text  per = route }
            route r { conversation = ["\(c)"]  to = s  template = "{content}" }
            """)
        let since = try world.latestEventSeq()
        try world.post("one", to: c)
        #expect(try world.awaitClientEvents(since: since, name: "message:send") { $0["userId"]?.stringValue == DemoWorld.bridgeUser }.count == 1)
        try world.post("two", to: c)
        #expect(d.process.waitForStderr("level=warn msg=\"pipe child closed its stdin", timeout: 15), "\(d.process.stderr)")
        #expect(d.process.waitForStderr("pipe child started", occurrences: 2, timeout: 15))
        #expect(d.stop() == 0)
    }
}
