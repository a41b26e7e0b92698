import JSON
import Relay
import Rules

/// `mojo-bridge test FILE...`: unit tests for rule files, offline. A test file is JSON lines:
/// events in the shared vocabulary (what `tail` prints), each followed by an optional
/// `{"expect": {"routes": [...], "sinks": {"NAME": BODY}}}` line, plus the directives
/// `{"config": "PATH"}` (the rules under test, relative to the test file; `--config` wins) and
/// `{"self": "USER"}` (the bridge's own user from then on). Format: Config/GRAMMAR.md, "Testing rules".
/// Exit 0 when every expectation holds, 1 with a diff when one does not.
enum TestCommand {
    static let valued: Set<String> = ["--config", "--self"]
    static let switches: Set<String> = ["--verbose", "-v"]

    static func run(_ args: ParsedArguments) -> ExitCode {
        guard !args.positional.isEmpty else {
            printErr("mojo-bridge test: name one or more test files (JSON lines; see `mojo-bridge test --help`)")
            return .usage
        }
        let verbose = args.switches.contains("--verbose") || args.switches.contains("-v")
        var total = 0, failed = 0
        var worst = ExitCode.ok
        for file in args.positional {
            let lines: EventLines
            switch EventLines.read(file) {
            case .failure(let e): printErr(e.message); return e.code
            case .success(let l): lines = l
            }
            var configPath = args.last("--config")
            if configPath == nil, let directive = lines.lines.lazy.compactMap({ $0.value["config"]?.stringValue }).first {
                configPath = resolve(directive, against: file)
            }
            guard let configPath else {
                printErr("\(file): no rules to test: add a line {\"config\": \"rules-file\"} or pass --config FILE")
                return .usage
            }
            guard let config = ConfigFile.load(configPath, prefix: "mojo-bridge test: ", verifyReferences: false, fragment: true) else {
                return .failure
            }
            let result = runFile(file, lines: lines, config: config, selfUser: args.last("--self"), verbose: verbose)
            total += result.total
            failed += result.failed
            if result.code != .ok, worst == .ok { worst = result.code }
        }
        print("\(total) test\(total == 1 ? "" : "s"), \(failed) failed")
        if worst != .ok { return worst }
        return failed == 0 ? .ok : .failure
    }

    static func resolve(_ path: String, against file: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }

    /// The test cases of one file: each event with the `expect` line that follows it.
    static func runFile(_ file: String, lines: EventLines, config: BridgeConfig, selfUser fixedSelf: String?,
                        verbose: Bool) -> (total: Int, failed: Int, code: ExitCode) {
        var selfUser = fixedSelf
        var cases: [(event: EventLines.Line, expect: EventLines.Line?)] = []
        for line in lines.lines {
            guard let object = line.value.objectValue else {
                printErr("\(file):\(line.number): expected a JSON object")
                return (0, 0, .dataError)
            }
            if object["type"] != nil {
                cases.append((line, nil))
            } else if object["expect"] != nil {
                guard let last = cases.indices.last, cases[last].expect == nil else {
                    printErr("\(file):\(line.number): `expect` must follow an event line (one `expect` per event)")
                    return (0, 0, .dataError)
                }
                cases[last].expect = line
            } else if object["config"] != nil || object["self"] != nil {
                continue
            } else {
                printErr("\(file):\(line.number): neither an event (with `type`) nor `expect`, `config` or `self`")
                return (0, 0, .dataError)
            }
        }
        // `self` directives apply to the events after them: a second pass in line order.
        var selfAt: [Int: String?] = [:]
        for line in lines.lines {
            if let s = line.value["self"]?.stringValue, fixedSelf == nil { selfUser = s }
            selfAt[line.number] = selfUser
        }
        let tokenUsers = SelfUsers.from(config)
        var failed = 0
        for (eventLine, expectLine) in cases {
            let tenant = eventLine.value["tenant"]?.stringValue
            let me = (selfAt[eventLine.number] ?? nil) ?? tenant.flatMap { tokenUsers[$0] }
            let fromSink = eventLine.value["from_sink"]?.stringValue
            let event: RoutableEvent
            switch RoutableEvent.decode(envelope: eventLine.value, direction: fromSink == nil ? .toSink : .fromSink, selfUserId: me) {
            case .failure(let e): printErr("\(file):\(eventLine.number): \(e.description)"); return (cases.count, failed, .dataError)
            case .success(var ev):
                ev.sourceSink = fromSink
                event = ev
            }
            let decisions = config.explain(event)
            var matched: [String] = []
            var deliveries: [String: [String]] = [:]
            for d in decisions {
                guard case .matched(let list) = d.outcome else { continue }
                matched.append(d.route)
                for delivery in list { deliveries[delivery.sink, default: []].append(delivery.text) }
            }
            var diff: [String] = []
            if let expectLine {
                guard let expect = expectLine.value["expect"]?.objectValue else {
                    printErr("\(file):\(expectLine.number): `expect` must be an object with `routes` and/or `sinks`")
                    return (cases.count, failed, .dataError)
                }
                for key in expect.keys where key != "routes" && key != "sinks" {
                    printErr("\(file):\(expectLine.number): unknown key `\(key)` in `expect`"
                             + (Suggestion.closest(to: key, in: ["routes", "sinks"]).map { " (did you mean `\($0)`?)" } ?? ""))
                    return (cases.count, failed, .dataError)
                }
                if let routes = expect["routes"] {
                    guard let list = routes.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                        printErr("\(file):\(expectLine.number): `routes` must be a list of route names")
                        return (cases.count, failed, .dataError)
                    }
                    let want = list.compactMap(\.stringValue)
                    if want != matched {
                        diff.append("  routes:")
                        diff.append("    - \(show(want))")
                        diff.append("    + \(show(matched))")
                    }
                }
                if let sinks = expect["sinks"] {
                    guard let object = sinks.objectValue else {
                        printErr("\(file):\(expectLine.number): `sinks` must be an object: {\"sink\": \"expected body\"}")
                        return (cases.count, failed, .dataError)
                    }
                    for (sink, want) in object {
                        let got = deliveries[sink]?.first
                        if !bodyMatches(want, got) {
                            diff.append("  sink \(sink):")
                            diff.append("    - \(want.isNull ? "(nothing)" : want.stringValue.map { quoted($0) } ?? want.serialized())")
                            diff.append("    + \(got.map { quoted($0) } ?? "(nothing)")")
                        }
                    }
                }
            } else if matched.isEmpty {
                diff.append("  no route matched (and no `expect` line says none should)")
            }
            let label = "\(file):\(eventLine.number): \(event.type)\(event.eventId.map { " \($0)" } ?? "")"
            if diff.isEmpty {
                if verbose { print("ok   \(label) -> \(matched.isEmpty ? "no route" : matched.joined(separator: ", "))") }
            } else {
                failed += 1
                print("FAIL \(label)")
                for line in diff { print(line) }
            }
        }
        return (cases.count, failed, .ok)
    }

    /// A string expectation is the exact body; another JSON value is compared with the body
    /// parsed as JSON (key order ignored); null means the sink receives nothing.
    static func bodyMatches(_ want: JSONValue, _ got: String?) -> Bool {
        if want.isNull { return got == nil }
        guard let got else { return false }
        if let text = want.stringValue { return text == got }
        guard let parsed = try? JSONValue(parsing: got) else { return false }
        return canonical(parsed) == canonical(want)
    }

    /// Objects with their keys sorted, so `{"a":1,"b":2}` equals `{"b":2,"a":1}`.
    static func canonical(_ value: JSONValue) -> String {
        switch value {
        case .object(let object):
            return "{" + object.keys.sorted().map { "\(JSONValue.string($0).serialized()):\(canonical(object[$0] ?? .null))" }.joined(separator: ",") + "}"
        case .array(let items):
            return "[" + items.map(canonical).joined(separator: ",") + "]"
        default:
            return value.serialized()
        }
    }

    static func show(_ routes: [String]) -> String { "[" + routes.joined(separator: ", ") + "]" }

    static func quoted(_ text: String) -> String { JSONValue.string(text).serialized() }
}
