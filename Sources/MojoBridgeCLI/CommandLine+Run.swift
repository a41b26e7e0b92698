#if canImport(Glibc)
import Glibc
#endif

/// The mojo-bridge version, printed by `--version`.
let mojoBridgeVersion = "0.1.0"

/// The global help page (generated from ``Help``'s tables, like each command's page).
var usageText: String { Help.overview }

extension CommandLine {
    /// Parses the arguments and runs the chosen subcommand; returns the exit code.
    static func run(_ args: [String]) -> ExitCode {
        guard let first = args.first else {
            printErr(usageText)
            return .usage
        }
        // `mojo-bridge tail --help`: that command's page (not an unknown option); what follows
        // `--` belongs to a pipe's child.
        if !first.hasPrefix("-"), args.dropFirst().prefix(while: { $0 != "--" }).contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(Help.command(first).map(Help.page) ?? usageText)
            return .ok
        }
        switch first {
        case "-h", "--help", "help":
            // `mojo-bridge help check` is `mojo-bridge check --help`.
            if first == "help", args.count > 1, let spec = Help.command(args[1]) {
                print(Help.page(spec))
                return .ok
            }
            print(usageText)
            return .ok
        case "--version", "version":
            print("mojo-bridge \(mojoBridgeVersion)")
            return .ok
        case "tail", "send":
            do throws(UsageError) {
                let rest = Array(args.dropFirst())
                if first == "tail" {
                    let parsed = try ArgumentParser.parse(rest, valued: TailCommand.valued, switches: TailCommand.switches)
                    if parsed.trailing != nil { throw UsageError(description: "tail takes no `--` arguments") }
                    return try TailCommand(args: parsed).run()
                } else {
                    let parsed = try ArgumentParser.parse(rest, valued: SendCommand.valued, switches: SendCommand.switches)
                    var cmd = parsed
                    cmd.positional += parsed.trailing ?? []
                    return try SendCommand(args: cmd).run()
                }
            } catch {
                printErr("mojo-bridge \(first): \(error.description)")
                printErr("run `mojo-bridge \(first) --help` for usage")
                return .usage
            }
        case "check":
            do throws(UsageError) {
                let parsed = try ArgumentParser.parse(Array(args.dropFirst()), valued: CheckCommand.valued, switches: CheckCommand.switches)
                guard parsed.positional.isEmpty, parsed.trailing == nil else { throw UsageError(description: "check takes no positional arguments") }
                return CheckCommand.run(parsed)
            } catch {
                printErr("mojo-bridge check: \(error.description)")
                return .usage
            }
        case "run":
            do throws(UsageError) {
                let parsed = try ArgumentParser.parse(Array(args.dropFirst()), valued: RunCommand.valued, switches: [])
                return try RunCommand(args: parsed).run()
            } catch {
                printErr("mojo-bridge run: \(error.description)")
                return .usage
            }
        case "pipe":
            do throws(UsageError) {
                let parsed = try ArgumentParser.parse(Array(args.dropFirst()), valued: PipeCommand.valued, switches: PipeCommand.switches)
                return try PipeCommand(args: parsed).run()
            } catch {
                printErr("mojo-bridge pipe: \(error.description)")
                return .usage
            }
        case "health":
            do throws(UsageError) {
                return HealthCommand.run(try ArgumentParser.parse(Array(args.dropFirst()), valued: HealthCommand.valued, switches: []))
            } catch {
                printErr("mojo-bridge health: \(error.description)")
                return .usage
            }
        case "status":
            do throws(UsageError) {
                return StatusCommand.run(try ArgumentParser.parse(Array(args.dropFirst()), valued: StatusCommand.valued, switches: StatusCommand.switches))
            } catch {
                printErr("mojo-bridge status: \(error.description)")
                return .usage
            }
        case "ingest-mail":
            do throws(UsageError) {
                let parsed = try ArgumentParser.parse(Array(args.dropFirst()), valued: IngestMailCommand.valued, switches: [])
                return try IngestMailCommand(args: parsed).run()
            } catch {
                printErr("mojo-bridge ingest-mail: \(error.description)")
                return .usage
            }
        case "spool":
            do throws(UsageError) {
                return SpoolCommand.run(try ArgumentParser.parse(Array(args.dropFirst()), valued: SpoolCommand.valued, switches: SpoolCommand.switches))
            } catch {
                printErr("mojo-bridge spool: \(error.description)")
                return .usage
            }
        case "test":
            do throws(UsageError) {
                let parsed = try ArgumentParser.parse(Array(args.dropFirst()), valued: TestCommand.valued, switches: TestCommand.switches)
                guard parsed.trailing == nil else { throw UsageError(description: "test takes no `--` arguments") }
                return TestCommand.run(parsed)
            } catch {
                printErr("mojo-bridge test: \(error.description)")
                return .usage
            }
        case "completion":
            do throws(UsageError) {
                return Completion.run(try ArgumentParser.parse(Array(args.dropFirst()), valued: [], switches: []))
            } catch {
                printErr("mojo-bridge completion: \(error.description)")
                return .usage
            }
        case "man":
            guard args.count == 1 else { printErr("mojo-bridge man: takes no arguments"); return .usage }
            print(Completion.man(), terminator: "")
            return .ok
        default:
            let known = Help.commands.map(\.name)
            if first.hasPrefix("-") {
                let suggestion = Help.closest(to: first, in: Help.global.flatMap(\.names))
                printErr("mojo-bridge: unknown option '\(first)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""))
            } else {
                let suggestion = Help.closest(to: first, in: known)
                printErr("mojo-bridge: unknown command '\(first)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""))
            }
            printErr("commands: \(known.joined(separator: ", ")); `mojo-bridge --help` for more")
            return .usage
        }
    }
}

/// Writes one line to standard error, unbuffered.
func printErr(_ line: String) {
    writeAll(2, line + "\n")
}

/// Writes `text` whole to `fd`, unbuffered (retrying short writes and EINTR; gives up on an error).
func writeAll(_ fd: Int32, _ text: String) {
    var s = text
    s.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}
