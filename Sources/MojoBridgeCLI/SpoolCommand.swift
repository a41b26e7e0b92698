import Diagnostics
import JSON
import Relay
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// `mojo-bridge spool [--config FILE] list|retry|drop [--sink NAME] [ID...]`.
enum SpoolCommand {
    static let valued: Set<String> = ["--config", "--sink"]
    static let switches: Set<String> = ["--dead", "--pending", "--all", "--json"]

    static func run(_ args: ParsedArguments) -> ExitCode {
        guard let action = args.positional.first, ["list", "retry", "drop"].contains(action) else {
            let hint = args.positional.first.flatMap { Help.closest(to: $0, in: ["list", "retry", "drop"]) }
            printErr("mojo-bridge spool: say list, retry or drop" + (hint.map { " (did you mean `\($0)`?)" } ?? ""))
            return .usage
        }
        let ids = Array(args.positional.dropFirst())
        let path = ConfigFile.path(args)
        // The spool needs no secrets: references are checked for shape only.
        guard let config = ConfigFile.load(path, prefix: "mojo-bridge spool: ", verifyReferences: false) else { return .config }
        let sink = args.last("--sink")
        if let sink, config.sink(named: sink) == nil && !sink.hasPrefix("replies:") {
            printErr("mojo-bridge spool: no sink `\(sink)` in \(path)")
            return .usage
        }
        let inspector: SpoolInspector
        do {
            inspector = try SpoolInspector(config: config, forWriting: action != "list", log: Logger(level: .warn))
        } catch {
            if error.errno == EWOULDBLOCK {
                printErr("mojo-bridge spool: the daemon is running on \(config.spool.directory); stop it first, or POST /v1/spool/<sink>/retry on its admin API")
                return .failure
            }
            printErr("mojo-bridge spool: \(error.description)")
            return .noInput
        }
        switch action {
        case "list":
            // Rows on stdout (tab-separated, or JSON lines), the per-sink summary on stderr, so
            // `spool list | cut -f2` sees rows only.
            let json = args.switches.contains("--json")
            if !json {
                for s in inspector.summary() where sink == nil || s.sink == sink {
                    printErr("\(s.sink): \(s.pending) pending, \(s.dead) dead, \(s.bytes) bytes")
                }
            }
            let now = Timestamp.nowUnixMilliseconds()
            for e in inspector.entries(sink: sink) {
                if args.switches.contains("--dead") && !e.dead { continue }
                if args.switches.contains("--pending") && e.dead { continue }
                if json {
                    var o = JSONObject()
                    o["sink"] = .string(e.sink)
                    o["id"] = .string(e.id)
                    o["state"] = .string(e.dead ? "dead" : "pending")
                    o["type"] = .string(e.type)
                    o["conversation"] = .string(e.conversation)
                    o["attempts"] = .number(String(e.attempts))
                    o["enqueued_at_ms"] = .number(String(e.enqueuedAtMs))
                    o["age_seconds"] = .number(String((now - e.enqueuedAtMs) / 1000))
                    if !e.dead && e.nextAtMs > 0 { o["next_at_ms"] = .number(String(e.nextAtMs)) }
                    if !e.lastError.isEmpty { o["error"] = .string(e.lastError) }
                    print(JSONValue.object(o).serialized())
                    continue
                }
                var line = "\(e.sink)\t\(e.id)\t\(e.dead ? "dead" : "pending")\t\(e.type)\tconversation=\(e.conversation)\tattempts=\(e.attempts)"
                line += "\tage=\((now - e.enqueuedAtMs) / 1000)s"
                if !e.dead && e.nextAtMs > now { line += "\tnext_in=\((e.nextAtMs - now) / 1000)s" }
                if !e.lastError.isEmpty { line += "\terror=\(e.lastError)" }
                print(line)
            }
            return .ok
        case "retry":
            guard !ids.isEmpty || args.switches.contains("--all") else {
                printErr("mojo-bridge spool retry: name the ids, or --all for every dead letter")
                return .usage
            }
            if let missing = unknown(ids, in: inspector, sink: sink, pending: false) {
                printErr("mojo-bridge spool retry: \(missing)")
                return .failure
            }
            do {
                let n = try inspector.retry(sink: sink, ids: ids)
                print("\(n) dead letter\(n == 1 ? "" : "s") back in line; delivered when the daemon runs")
                return .ok
            } catch { printErr("mojo-bridge spool: \(error.description)"); return .failure }
        default:
            guard !ids.isEmpty || args.switches.contains("--all") else {
                printErr("mojo-bridge spool drop: name the ids, or --all (dead letters; add --pending for pending events too)")
                return .usage
            }
            if let missing = unknown(ids, in: inspector, sink: sink, pending: args.switches.contains("--pending")) {
                printErr("mojo-bridge spool drop: \(missing); nothing dropped")
                return .failure
            }
            do {
                let n = try inspector.drop(sink: sink, ids: ids, pending: args.switches.contains("--pending"))
                print("\(n) item\(n == 1 ? "" : "s") dropped")
                return .ok
            } catch { printErr("mojo-bridge spool: \(error.description)"); return .failure }
        }
    }

    /// Why some of `ids` cannot be retried or dropped (not in the spool, or pending without
    /// `--pending`), or nil when every one can.
    static func unknown(_ ids: [String], in inspector: SpoolInspector, sink: String?, pending: Bool) -> String? {
        let entries = inspector.entries(sink: sink)
        var problems: [String] = []
        for id in ids {
            let found = entries.filter { $0.id == id }
            if found.isEmpty {
                problems.append("no event `\(id)` in the spool\(sink.map { " of sink \($0)" } ?? "")")
            } else if !pending, !found.contains(where: \.dead) {
                problems.append("`\(id)` is pending, not a dead letter\(pending ? "" : " (drop --pending drops pending events)")")
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}
