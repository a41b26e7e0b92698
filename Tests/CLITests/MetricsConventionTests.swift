import Foundation
import JSON
import Testing
import TestSupport

/// `/metrics` by the Prometheus conventions, cross-checked against the spool after a scripted run.
@Suite(.serialized) struct MetricsConventionTests {
    let world = DemoWorld.shared

    /// `name{labels}` -> value, from the text format.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }

    @Test func countersAgreeWithTheSpoolAndFollowTheConventions() throws {
        let c = try world.newConversation()
        // Nothing listens on port 1: every delivery fails, and with one attempt it is dead at once.
        let d = try Daemon(rules: """
            admin { listen = "127.0.0.1:0" }
            sink hooks { type = webhook  url = "http://127.0.0.1:1/hook?token=s3cr3t"  secret = env:HOOK_SECRET  allow_private = true  retry = [0s] }
            sink bot { type = pipe  command = ["/bin/cat"]  format = text }
            route r { conversation = ["\(c)"]  to = hooks  continue = true }
            route b { conversation = ["\(c)"]  content = /^never$/  to = bot }
            """, environment: ["HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        let line = try #require(d.process.stderr.split(separator: "\n").first { $0.contains("admin server listening") })
        let port = try #require(line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) })
        let admin = RawHTTP(port: port)

        // Present from the start, at zero.
        let before = Self.samples(try admin.send("GET", "/metrics").body)
        #expect(before["mojo_bridge_deliveries_total{sink=\"hooks\",outcome=\"dead\"}"] == 0)
        #expect(before["mojo_bridge_events_received_total{tenant=\"org_demo\",type=\"message:error\"}"] != nil)  // the tenant is shared: present, maybe not 0
        #expect(before["mojo_bridge_events_routed_total{sink=\"bot\",route=\"b\"}"] == 0)
        #expect(before["mojo_bridge_spool_refused_total{sink=\"hooks\"}"] == 0)
        #expect(before["mojo_bridge_spool_dropped_total{sink=\"hooks\"}"] == 0)
        #expect(before["mojo_bridge_sink_child_restarts_total{sink=\"bot\"}"] == 0)
        #expect(before["mojo_bridge_session_reconnects_total{tenant=\"org_demo\"}"] == 0)
        #expect(before["mojo_bridge_build_info{version=\"0.1.0\"}"] == 1)
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"] {
            #expect((before[name] ?? 0) > 0, "\(name)")
        }

        try world.post("one", to: c)
        try world.post("two", to: c)
        #expect(d.process.waitForStderr("dead-lettered", occurrences: 2))
        let text = try admin.send("GET", "/metrics").body
        let after = Self.samples(text)
        #expect(after["mojo_bridge_deliveries_total{sink=\"hooks\",outcome=\"dead\"}"] == 2)
        #expect(after["mojo_bridge_spool_dead{sink=\"hooks\"}"] == 2)
        #expect(after["mojo_bridge_events_routed_total{sink=\"hooks\",route=\"r\"}"] == 2)
        #expect((after["mojo_bridge_events_received_total{tenant=\"org_demo\",type=\"message:new\"}"] ?? 0) >= 2)  // other tests share the tenant

        // Counters end in _total (histograms and gauges are not counters); every sample parses.
        for typeLine in text.split(separator: "\n") where typeLine.hasPrefix("# TYPE ") {
            let parts = typeLine.split(separator: " ")
            if parts.count == 4, parts[3] == "counter" { #expect(parts[2].hasSuffix("_total"), "\(typeLine)") }
        }
        #expect(text.contains("# TYPE mojo_bridge_session_reconnects_total counter"))
        // The webhook's secret-bearing query never reaches the log.
        #expect(!d.process.stderr.contains("s3cr3t"))
        #expect(d.process.stderr.contains("/hook?[redacted]"))
        #expect(d.stop() == 0)

        // The spool says the same after the daemon stopped.
        let list = try BridgeProcess.run(["spool", "--config", d.configPath, "list", "--json", "--sink", "hooks"])
        let rows = list.stdout.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) }
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0["state"]?.stringValue == "dead" })
        #expect(!list.stdout.contains("s3cr3t"))
    }
}
