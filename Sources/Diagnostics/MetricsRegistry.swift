/// The process's metrics, rendered in the Prometheus text exposition format 0.0.4.
///
/// A final class confined to the event-loop thread: register and update instruments, and call
/// `render()`, only from that thread (no locks, no atomics). Registration is idempotent: asking
/// again for a name and label set returns the same instrument. Families render in registration
/// order, series in the order their label sets were first seen.
public final class MetricsRegistry {
    /// The kind of a metric family.
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// One series of a family.
    enum Series {
        case counter(Counter)
        case gauge(Gauge)
        case histogram(Histogram)
        case callback(labels: [(String, String)], read: () -> Double)

        var labels: [(String, String)] {
            switch self {
            case .counter(let c): return c.labels
            case .gauge(let g): return g.labels
            case .histogram(let h): return h.labels
            case .callback(let labels, _): return labels
            }
        }
    }

    /// Every series sharing one name, help text and type.
    final class Family {
        let name: String
        let help: String
        let kind: Kind
        let buckets: [Double]
        var series: [Series] = []
        var index: [String: Int] = [:]

        init(name: String, help: String, kind: Kind, buckets: [Double]) {
            self.name = name
            self.help = help
            self.kind = kind
            self.buckets = buckets
        }
    }

    var families: [Family] = []
    private var byName: [String: Family] = [:]

    /// Creates an empty registry.
    public init() {}

    /// The counter `name{labels}`, created at 0 on first use.
    public func counter(_ name: String, help: String, labels: [(String, String)] = []) throws(MetricsError) -> Counter {
        let (family, key) = try family(name, help: help, kind: .counter, labels: labels)
        if let existing = family.index[key], case .counter(let counter) = family.series[existing] { return counter }
        let counter = Counter(labels: labels)
        add(.counter(counter), to: family, key: key)
        return counter
    }

    /// The gauge `name{labels}`, created at 0 on first use.
    public func gauge(_ name: String, help: String, labels: [(String, String)] = []) throws(MetricsError) -> Gauge {
        let (family, key) = try family(name, help: help, kind: .gauge, labels: labels)
        if let existing = family.index[key], case .gauge(let gauge) = family.series[existing] { return gauge }
        let gauge = Gauge(labels: labels)
        add(.gauge(gauge), to: family, key: key)
        return gauge
    }

    /// A gauge whose value is read from `read` at every `render()` (e.g. sessions connected).
    /// Registering the same name and labels again replaces the closure.
    public func callbackGauge(_ name: String, help: String, labels: [(String, String)] = [],
                              _ read: @escaping () -> Double) throws(MetricsError) {
        let (family, key) = try family(name, help: help, kind: .gauge, labels: labels)
        if let existing = family.index[key] {
            family.series[existing] = .callback(labels: labels, read: read)
        } else {
            add(.callback(labels: labels, read: read), to: family, key: key)
        }
    }

    /// A counter whose value is read from `read` at every `render()`: a count kept elsewhere
    /// (reconnections, CPU seconds). `read` must never go down. Registering the same name and
    /// labels again replaces the closure.
    public func callbackCounter(_ name: String, help: String, labels: [(String, String)] = [],
                                _ read: @escaping () -> Double) throws(MetricsError) {
        let (family, key) = try family(name, help: help, kind: .counter, labels: labels)
        if let existing = family.index[key] {
            family.series[existing] = .callback(labels: labels, read: read)
        } else {
            add(.callback(labels: labels, read: read), to: family, key: key)
        }
    }

    /// The histogram `name{labels}` with `buckets` (ascending upper bounds; every series of a
    /// family must use the same buckets).
    public func histogram(_ name: String, help: String, labels: [(String, String)] = [],
                          buckets: [Double] = Histogram.defaultLatencyBuckets) throws(MetricsError) -> Histogram {
        guard !buckets.isEmpty, buckets.allSatisfy(\.isFinite), zip(buckets, buckets.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .invalidBuckets(name: name)
        }
        if labels.contains(where: { $0.0 == "le" }) { throw .invalidLabelName("le") }
        let (family, key) = try family(name, help: help, kind: .histogram, labels: labels, buckets: buckets)
        guard family.buckets == buckets else { throw .invalidBuckets(name: name) }
        if let existing = family.index[key], case .histogram(let histogram) = family.series[existing] { return histogram }
        let histogram = Histogram(labels: labels, buckets: buckets)
        add(.histogram(histogram), to: family, key: key)
        return histogram
    }

    /// Forgets the series `name{labels}` (e.g. a tenant removed by a reload); `false` if absent.
    @discardableResult
    public func remove(_ name: String, labels: [(String, String)] = []) -> Bool {
        guard let family = byName[name], let position = family.index[Self.key(labels)] else { return false }
        family.series.remove(at: position)
        family.index = [:]
        for (offset, series) in family.series.enumerated() { family.index[Self.key(series.labels)] = offset }
        return true
    }

    private func family(_ name: String, help: String, kind: Kind, labels: [(String, String)],
                        buckets: [Double] = []) throws(MetricsError) -> (Family, String) {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        var seen: Set<String> = []
        for (label, _) in labels {
            guard Self.isValidLabelName(label), seen.insert(label).inserted else { throw .invalidLabelName(label) }
        }
        if let family = byName[name] {
            guard family.kind == kind else { throw .typeMismatch(name: name) }
            return (family, Self.key(labels))
        }
        let family = Family(name: name, help: help, kind: kind, buckets: buckets)
        families.append(family)
        byName[name] = family
        return (family, Self.key(labels))
    }

    private func add(_ series: Series, to family: Family, key: String) {
        family.index[key] = family.series.count
        family.series.append(series)
    }

    /// Identity of a label set: order-independent.
    static func key(_ labels: [(String, String)]) -> String {
        labels.sorted { $0.0 < $1.0 }.map { "\($0.0)\u{0}\($0.1)" }.joined(separator: "\u{1}")
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }

    static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first), !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }
}
