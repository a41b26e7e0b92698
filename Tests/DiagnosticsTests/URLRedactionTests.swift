import Testing
@testable import Diagnostics

/// URLs in logs: no query, no user information, secret-looking path segments masked.
@Suite struct URLRedactionTests {
    @Test(arguments: [
        ("https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefGHIJKL123456mnopQR",
         "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/[redacted]"),
        ("https://example.com/mojo?token=s3cr3t&x=1#frag", "https://example.com/mojo?[redacted]"),
        ("https://user:pw@example.com/in", "https://[redacted]@example.com/in"),
        ("https://discord.com/api/webhooks/123456789012345678/aBcD-eFgH_iJkL-mNoP_qRsT-uVwX_yZ012345678901234567890",
         "https://discord.com/api/webhooks/123456789012345678/[redacted]"),
        ("http://127.0.0.1:8080/mojo-events/conversation-logger", "http://127.0.0.1:8080/mojo-events/conversation-logger"),
        ("http://[::1]:9/a", "http://[::1]:9/a"),
        ("not a url?with=query", "not a url?[redacted]"),
    ])
    func redacts(_ input: String, _ expected: String) {
        #expect(URLRedaction.redact(input) == expected)
    }

    @Test func metricsCallbackCountersRenderAsCounters() throws {
        let registry = MetricsRegistry()
        var n = 3.0
        try registry.callbackCounter("x_total", help: "x", labels: [("a", "b")]) { n }
        n = 4
        #expect(registry.render() == "# HELP x_total x\n# TYPE x_total counter\nx_total{a=\"b\"} 4\n")
        ProcessMetrics.register(on: registry)
        let text = registry.render()
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"] {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            let value = line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
            #expect(value > 0, "\(name)")
        }
    }
}
