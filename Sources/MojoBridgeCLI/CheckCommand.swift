import JSON
import Relay
import Rules
import Transport

/// `mojo-bridge check`: validates the config and its rule files without touching the network;
/// with `--event FILE`, shows which routes a sample event takes and what each sink would receive.
enum CheckCommand {
    static let valued: Set<String> = ["--config", "--event", "--self", "--shard"]

    static func run(_ args: ParsedArguments) -> ExitCode {
        let path = ConfigFile.path(args)
        guard let config = ConfigFile.load(path, prefix: "") else { return .failure }
        guard let eventPath = args.last("--event") else {
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
        let bytes: [UInt8]
        switch FileReader.read(path: eventPath, maxBytes: 1 << 20) {
        case .failure(let e): printErr("\(eventPath): \(e)"); return .noInput
        case .success(let b): bytes = b
        }
        let json: JSONValue
        do { json = try JSONValue(parsing: bytes) } catch {
            printErr("\(eventPath): not valid JSON: \(error.description)")
            return .dataError
        }
        let event: RoutableEvent
        switch RoutableEvent.decode(envelope: json, direction: .toSink, selfUserId: args.last("--self")) {
        case .failure(let e): printErr("\(eventPath): \(e.description)"); return .dataError
        case .success(let ev): event = ev
        }
        for decision in config.explain(event) { print(decision.description) }
        return .ok
    }
}
