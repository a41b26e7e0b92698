import Testing
@testable import Diagnostics

/// One parsed sample of the text format.
struct Sample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A tiny parser for the exposition format: enough to read back what `render()` writes,
/// including escaped label values. Returns the samples and the `# TYPE` of each family.
func parseExposition(_ text: String) throws -> (samples: [Sample], types: [String: String]) {
    struct Malformed: Error { let line: String }
    var samples: [Sample] = []
    var types: [String: String] = [:]
    for line in text.split(separator: "\n") {
        if line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            types[String(parts[2])] = String(parts[3])
            continue
        }
        if line.hasPrefix("#") { continue }
        var scalars = Array(line.unicodeScalars)[...]
        var name = ""
        while let c = scalars.first, c != "{", c != " " { name.unicodeScalars.append(c); scalars.removeFirst() }
        var labels: [String: String] = [:]
        if scalars.first == "{" {
            scalars.removeFirst()
            while scalars.first != "}" {
                var key = ""
                while let c = scalars.first, c != "=" { key.unicodeScalars.append(c); scalars.removeFirst() }
                scalars.removeFirst(2) // ="
                var value = ""
                while let c = scalars.first, c != "\"" {
                    scalars.removeFirst()
                    if c == "\\" {
                        let escaped = scalars.removeFirst()
                        value.unicodeScalars.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.unicodeScalars.append(c)
                    }
                }
                scalars.removeFirst()
                if scalars.first == "," { scalars.removeFirst() }
                labels[key] = value
            }
            scalars.removeFirst()
        }
        guard scalars.first == " " else { throw Malformed(line: String(line)) }
        let valueText = String(String.UnicodeScalarView(scalars.dropFirst()))
        let value: Double? = valueText == "+Inf" ? .infinity : valueText == "-Inf" ? -.infinity : Double(valueText)
        guard let value else { throw Malformed(line: String(line)) }
        samples.append(Sample(name: name, labels: labels, value: value))
    }
    return (samples, types)
}

@Suite struct MetricsTests {
    @Test func countersAndGaugesRenderAndParseBack() throws {
        let registry = MetricsRegistry()
        let inA = try registry.counter("mojo_events_in_total", help: "Events received.", labels: [("tenant", "a")])
        let inB = try registry.counter("mojo_events_in_total", help: "Events received.", labels: [("tenant", "b")])
        inA.increment()
        inA.increment(by: 2)
        inA.increment(by: -5)
        inB.increment(by: 0.5)
        #expect(try registry.counter("mojo_events_in_total", help: "", labels: [("tenant", "a")]) === inA)
        let depth = try registry.gauge("mojo_spool_depth", help: "Items waiting.\nPer sink \\ total.")
        depth.set(10)
        depth.decrement(by: 3)
        depth.increment()
        var connected = 2.0
        try registry.callbackGauge("mojo_sessions_connected", help: "Tenant sessions connected.") { connected }

        let first = try parseExposition(registry.render())
        #expect(first.types == ["mojo_events_in_total": "counter", "mojo_spool_depth": "gauge", "mojo_sessions_connected": "gauge"])
        #expect(first.samples == [
            Sample(name: "mojo_events_in_total", labels: ["tenant": "a"], value: 3),
            Sample(name: "mojo_events_in_total", labels: ["tenant": "b"], value: 0.5),
            Sample(name: "mojo_spool_depth", labels: [:], value: 8),
            Sample(name: "mojo_sessions_connected", labels: [:], value: 2),
        ])
        connected = 5
        #expect(try parseExposition(registry.render()).samples.last?.value == 5)
        #expect(registry.render().contains("# HELP mojo_spool_depth Items waiting.\\nPer sink \\\\ total.\n"))
    }

    @Test func histogramBucketsAreCumulative() throws {
        let registry = MetricsRegistry()
        let latency = try registry.histogram("mojo_delivery_seconds", help: "Delivery latency.",
                                             labels: [("sink", "hook")], buckets: [0.01, 0.1, 1])
        for value in [0.005, 0.01, 0.05, 0.5, 3, .nan] { latency.observe(value) }
        let parsed = try parseExposition(registry.render())
        #expect(parsed.types["mojo_delivery_seconds"] == "histogram")
        let buckets = parsed.samples.filter { $0.name == "mojo_delivery_seconds_bucket" }
        #expect(buckets.map { $0.labels["le"] ?? "" } == ["0.01", "0.1", "1", "+Inf"])
        #expect(buckets.map(\.value) == [2, 3, 4, 5])
        #expect(buckets.allSatisfy { $0.labels["sink"] == "hook" })
        let sum = try #require(parsed.samples.first { $0.name == "mojo_delivery_seconds_sum" })
        #expect(abs(sum.value - 3.565) < 1e-9)
        #expect(parsed.samples.first { $0.name == "mojo_delivery_seconds_count" }?.value == 5)
        #expect(registry.render().contains("mojo_delivery_seconds_bucket{sink=\"hook\",le=\"+Inf\"} 5\n"))
    }

    @Test func defaultLatencyBucketsRender() throws {
        let registry = MetricsRegistry()
        try registry.histogram("latency_seconds", help: "x").observe(0.0007)
        let parsed = try parseExposition(registry.render())
        let bounds = parsed.samples.filter { $0.name == "latency_seconds_bucket" }.compactMap { $0.labels["le"] }
        #expect(bounds.first == "0.0005")
        #expect(bounds.count == Histogram.defaultLatencyBuckets.count + 1)
        #expect(parsed.samples.first { $0.labels["le"] == "0.001" }?.value == 1)
        #expect(parsed.samples.first { $0.labels["le"] == "0.0005" }?.value == 0)
    }

    @Test func labelValuesAreEscaped() throws {
        let registry = MetricsRegistry()
        let tricky = "a \"quoted\" \\ back\r\nslash"
        try registry.counter("c_total", help: "h", labels: [("route", tricky)]).increment()
        let text = registry.render()
        #expect(text.split(separator: "\n").count == 3)
        #expect(try parseExposition(text).samples.first?.labels["route"] == tricky)
    }

    @Test func registrationErrors() throws {
        let registry = MetricsRegistry()
        _ = try registry.counter("x_total", help: "")
        #expect(throws: MetricsError.typeMismatch(name: "x_total")) { try registry.gauge("x_total", help: "") }
        #expect(throws: MetricsError.invalidName("1bad")) { try registry.counter("1bad", help: "") }
        #expect(throws: MetricsError.invalidName("bad-name")) { try registry.counter("bad-name", help: "") }
        #expect(throws: MetricsError.invalidLabelName("__x")) { try registry.counter("y", help: "", labels: [("__x", "")]) }
        #expect(throws: MetricsError.invalidLabelName("a")) { try registry.counter("y", help: "", labels: [("a", "1"), ("a", "2")]) }
        #expect(throws: MetricsError.invalidLabelName("le")) { try registry.histogram("h", help: "", labels: [("le", "1")]) }
        #expect(throws: MetricsError.invalidBuckets(name: "h")) { try registry.histogram("h", help: "", buckets: [1, 1]) }
        #expect(throws: MetricsError.invalidBuckets(name: "h")) { try registry.histogram("h", help: "", buckets: []) }
        _ = try registry.histogram("h2", help: "", buckets: [1, 2])
        #expect(throws: MetricsError.invalidBuckets(name: "h2")) {
            try registry.histogram("h2", help: "", labels: [("k", "v")], buckets: [1, 3])
        }
    }

    @Test func labelOrderDoesNotMatterAndSeriesCanBeRemoved() throws {
        let registry = MetricsRegistry()
        let one = try registry.counter("d_total", help: "", labels: [("a", "1"), ("b", "2")])
        #expect(try registry.counter("d_total", help: "", labels: [("b", "2"), ("a", "1")]) === one)
        _ = try registry.counter("d_total", help: "", labels: [("a", "3"), ("b", "4")])
        #expect(registry.remove("d_total", labels: [("b", "2"), ("a", "1")]))
        #expect(!registry.remove("d_total", labels: [("a", "1"), ("b", "2")]))
        let samples = try parseExposition(registry.render()).samples
        #expect(samples.map { $0.labels["a"] } == ["3"])
    }

    @Test func numberFormatting() {
        #expect(MetricsRegistry.format(3) == "3")
        #expect(MetricsRegistry.format(-2) == "-2")
        #expect(MetricsRegistry.format(0.25) == "0.25")
        #expect(MetricsRegistry.format(.infinity) == "+Inf")
        #expect(MetricsRegistry.format(-.infinity) == "-Inf")
        #expect(MetricsRegistry.format(.nan) == "NaN")
        #expect(Double(MetricsRegistry.format(1e20)) == 1e20)
    }
}
