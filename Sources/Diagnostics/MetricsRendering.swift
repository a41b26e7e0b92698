extension MetricsRegistry {
    /// The content type of `render()`'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every family in the Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE`
    /// lines, then one sample per line; histograms as cumulative `_bucket{le="..."}` samples
    /// ending with `le="+Inf"`, then `_sum` and `_count`. Callback gauges are evaluated now.
    public func render() -> String {
        var out = ""
        for family in families {
            out += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for series in family.series {
                switch series {
                case .counter(let counter):
                    out += Self.sample(family.name, counter.labels, counter.value)
                case .gauge(let gauge):
                    out += Self.sample(family.name, gauge.labels, gauge.value)
                case .callback(let labels, let read):
                    out += Self.sample(family.name, labels, read())
                case .histogram(let histogram):
                    var cumulative: UInt64 = 0
                    for (bound, count) in zip(histogram.buckets, histogram.bucketCounts) {
                        cumulative += count
                        out += Self.sample(family.name + "_bucket", histogram.labels + [("le", Self.format(bound))], Double(cumulative))
                    }
                    out += Self.sample(family.name + "_bucket", histogram.labels + [("le", "+Inf")], Double(histogram.count))
                    out += Self.sample(family.name + "_sum", histogram.labels, histogram.sum)
                    out += Self.sample(family.name + "_count", histogram.labels, Double(histogram.count))
                }
            }
        }
        return out
    }

    static func sample(_ name: String, _ labels: [(String, String)], _ value: Double) -> String {
        guard !labels.isEmpty else { return "\(name) \(format(value))\n" }
        let rendered = labels.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",")
        return "\(name){\(rendered)} \(format(value))\n"
    }

    /// Go-compatible float text: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character and would hide its line feed.
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Help text escapes backslash and line feed.
    static func escapeHelp(_ help: String) -> String {
        var out = ""
        for scalar in help.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
