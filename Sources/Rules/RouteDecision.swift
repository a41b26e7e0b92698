/// What one route does with one event, for `mojo-bridge check --event FILE`.
public struct RouteDecision: Sendable, Equatable, CustomStringConvertible {
    /// What a sink would receive.
    public struct Delivery: Sendable, Equatable {
        /// The sink's name.
        public var sink: String
        /// The rendered text (template or default), escaped for the sink.
        public var text: String
        /// For email sinks: the rendered subject header.
        public var subject: String?
    }

    /// The outcome for this route.
    public enum Outcome: Sendable, Equatable {
        /// The event takes this route, to these sinks.
        case matched([Delivery])
        /// The first criterion the event fails.
        case failed(String)
        /// An earlier route matched without `continue = true`.
        case notReached(after: String)
    }

    /// The route's name.
    public var route: String
    /// Where the route is defined.
    public var location: SourceLocation
    /// What happened.
    public var outcome: Outcome

    /// Several lines: `route NAME (file:line:col): matched` and one `  -> sink: text` per
    /// delivery (text JSON-quoted so line breaks show), or `: skipped, <reason>`.
    public var description: String {
        let head = "route \(route) (\(location))"
        switch outcome {
        case .failed(let reason): return "\(head): skipped, \(reason)"
        case .notReached(let name): return "\(head): not reached, route \(name) matched first"
        case .matched(let deliveries):
            var lines = ["\(head): matched"]
            for d in deliveries {
                if let subject = d.subject { lines.append("  -> \(d.sink) subject: \(TemplateEscaping.quoted(subject))") }
                lines.append("  -> \(d.sink): \(TemplateEscaping.quoted(d.text))")
            }
            return lines.joined(separator: "\n")
        }
    }
}

extension TemplateEscaping {
    /// `text` as a JSON string literal, so control characters are visible in `check` output.
    static func quoted(_ text: String) -> String { "\"" + jsonStringContents(text) + "\"" }
}

extension BridgeConfig {
    /// For each route in order: matched (with what each of its sinks would receive), the first
    /// criterion that failed, or not reached because an earlier route matched for good.
    public func explain(_ event: RoutableEvent) -> [RouteDecision] {
        var winner: String?
        var decisions: [RouteDecision] = []
        for route in routes {
            let outcome: RouteDecision.Outcome
            if let winner {
                outcome = .notReached(after: winner)
            } else if let reason = route.failure(for: event) {
                outcome = .failed(reason)
            } else {
                outcome = .matched(route.sinks.compactMap { name in
                    guard let sink = sink(named: name) else { return nil }
                    let subject = sink.kind.settings.attributes(for: event).first { $0.0 == "subject" }?.1
                    return RouteDecision.Delivery(sink: name, text: route.render(event, for: sink), subject: subject)
                })
                if !route.continues { winner = route.name }
            }
            decisions.append(RouteDecision(route: route.name, location: route.location, outcome: outcome))
        }
        return decisions
    }
}
