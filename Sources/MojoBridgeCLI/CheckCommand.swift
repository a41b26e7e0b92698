import JSON
import Relay
import Rules
import Transport

/// `mojo-bridge check`: validates the config and its rule files without touching the network;
/// with `--event FILE`, shows which routes sample events take and what each sink would receive.
///
/// Without `--no-secrets` it also verifies what `run` will need: secrets set, readable and of
/// the right shape, pipe programs executable. Exit 0 when all is well (and with `--event`, when
/// every event took a route, or the routes `--expect` names), else 1.
enum CheckCommand {
    static let valued: Set<String> = ["--config", "--event", "--self", "--expect", "--shard"]
    static let switches: Set<String> = ["--no-secrets", "--fragment"]

    static func run(_ args: ParsedArguments) -> ExitCode {
        let path = ConfigFile.path(args)
        let verify = !args.switches.contains("--no-secrets")
        let fragment = args.switches.contains("--fragment")
        guard let config = ConfigFile.load(path, prefix: "", verifyReferences: verify, fragment: fragment) else { return .failure }
        let unavailable = SinkKinds.unavailable(in: config)
        guard unavailable.isEmpty else {
            for e in unavailable { printErr(e.description) }
            printErr("\(path): \(unavailable.count) error\(unavailable.count == 1 ? "" : "s")")
            return .failure
        }
        if verify {
            let problems = ConfigReadiness.problems(in: config)
            if !problems.isEmpty {
                for p in problems { printErr(p.description) }
                printErr("\(path): \(problems.count) error\(problems.count == 1 ? "" : "s") (`run` would fail; --no-secrets checks references for shape only)")
                return .failure
            }
        }
        guard let eventPath = args.last("--event") else {
            if args.last("--expect") != nil { printErr("mojo-bridge check: --expect needs --event FILE"); return .usage }
            print("\(path): ok (\(config.tenants.count) tenant\(config.tenants.count == 1 ? "" : "s"), \(config.sinks.count) sink\(config.sinks.count == 1 ? "" : "s"), \(config.routes.count) route\(config.routes.count == 1 ? "" : "s"), \(config.files.count) file\(config.files.count == 1 ? "" : "s"))")
            // Which tenants a replica holds: `--shard i/N` (or MOJO_SHARD, or `server { shard }`).
            switch Deployment.shard(flag: args.last("--shard"), config: config) {
            case .failure(let e):
                printErr("\(path): \(e.description)")
                return .failure
            case .success(let shard?):
                let held = Deployment.apply(shard, to: config).tenants.map(\.id)
                print("shard \(shard): \(held.count) of \(config.tenants.count) tenants: \(held.joined(separator: " "))")
            case .success(nil):
                break
            }
            return .ok
        }
        let expected: [String]? = args.last("--expect").map { text in
            text == "none" ? [] : text.split(separator: ",").map { String($0).trimmingCharacters() }
        }
        if let expected {
            let known = config.routes.map(\.name)
            for name in expected where !known.contains(name) {
                printErr("mojo-bridge check: --expect names unknown route `\(name)`"
                         + (Suggestion.closest(to: name, in: known).map { " (did you mean `\($0)`?)" } ?? ""))
                return .usage
            }
        }
        let lines: EventLines
        switch EventLines.read(eventPath) {
        case .failure(let e): printErr(e.message); return e.code
        case .success(let l): lines = l
        }
        let selfUsers = SelfUsers.from(config)
        var status = ExitCode.ok
        for line in lines.lines {
            let selfUser: String? = args.last("--self") ?? line.value["tenant"]?.stringValue.flatMap { selfUsers[$0] }
            let event: RoutableEvent
            switch RoutableEvent.decode(envelope: line.value, direction: .toSink, selfUserId: selfUser) {
            case .failure(let e): printErr("\(eventPath):\(line.number): \(e.description)"); return .dataError
            case .success(let ev): event = ev
            }
            if lines.lines.count > 1 {
                print("\(eventPath):\(line.number): \(event.type)\(event.eventId.map { " \($0)" } ?? "")")
            }
            let decisions = config.explain(event)
            for decision in decisions { print(decision.description) }
            let matched = decisions.compactMap { d -> String? in
                if case .matched = d.outcome { return d.route }
                return nil
            }
            if let expected {
                if matched != expected {
                    print("FAIL: expected \(expected.isEmpty ? "no route" : expected.joined(separator: ",")), matched \(matched.isEmpty ? "no route" : matched.joined(separator: ","))")
                    status = .failure
                }
            } else if matched.isEmpty {
                print("no route matched")
                status = .failure
            }
        }
        return status
    }
}
