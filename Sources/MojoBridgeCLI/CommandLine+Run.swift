#if canImport(Glibc)
import Glibc
#endif

/// The mojo-bridge version, printed by `--version`.
let mojoBridgeVersion = "0.1.0"

let usageText = """
usage: mojo-bridge <command> [options]

A bridge daemon for MOJO messaging: one Socket.IO session per tenant, conversations routed
to pipes and webhooks by rule files, replies relayed back, every event spooled until delivered.

commands:
  run    [--config FILE] [--shutdown-timeout 10s]
                                                 run the daemon (SIGHUP reloads, SIGTERM stops)
  check  [--config FILE] [--event FILE] [--self USER]
                                                 validate config and rules without network; exit 0 or 1;
                                                 with --event, show the routes a sample event takes
  tail   CONN [--conversation ID]... [--type EVENT]... [--retry]
                                                 print MOJO events as JSON lines on stdout
  send   CONN --conversation ID [--type T] [--reply-to ID] [--timeout 30s] [TEXT...]
                                                 send TEXT, or each stdin line; exit 0 when acknowledged
  pipe   CONN [--conversation ID]... [--format json|text] [--events KINDS] [--include-self] -- CMD ARG...
                                                 bridge a child process to MOJO (no shell; exits with its status)
  spool  [--config FILE] list [--sink S] [--dead|--pending]
         [--config FILE] retry|drop [--sink S] (ID... | --all) [--pending]
                                                 inspect the durable spool; retry or drop dead letters
  ingest-mail [--config FILE] [--recipient ADDR] [--timeout 30s]
                                                 post the email reply on stdin (an MTA pipe transport);
                                                 exit 0, 65 malformed, 67 unknown address, 75 retry, 77 refused

connection options (CONN):
  --url URL              MOJO server, ws:// wss:// http:// https:// (or MOJO_URL)
  --tenant ID            tenant (organisation) id (or MOJO_TENANT)
  --token-file PATH      read the JWT from PATH at every connect
  --token-command CMD    run CMD (no shell) at every connect; its stdout is the JWT
                         without either, the token comes from MOJO_TOKEN; never from an argument
  --transport MODE       websocket | polling | upgrade | auto (default auto: websocket,
                         falling back to polling that upgrades when WebSocket is blocked)
  --ca-file PATH         trust this CA bundle instead of the system store
  --path PATH            Socket.IO path (default /socket.io/)
  --namespace NSP        Socket.IO namespace (default /)
  --connect-timeout D    TCP/TLS connect timeout (default 10s)

global options:
  -h, --help             show this help
  --version              print the version
  --log-level LEVEL      debug | info | warn | error (default info; warn for tail, send, pipe)
  --log-format FORMAT    logfmt | json (default logfmt)

exit codes: 0 ok, 1 refused by server or check failed, 64 usage, 65 malformed server data,
66 missing input file, 69 unreachable, 70 internal error, 75 timeout, 76 HTTP/protocol error,
77 auth refused, 78 bad config, 80 TLS failure; pipe exits with its child's status.
More: README.md, Config/GRAMMAR.md.
"""

extension CommandLine {
    /// Parses the arguments and runs the chosen subcommand; returns the exit code.
    static func run(_ args: [String]) -> ExitCode {
        guard let first = args.first else {
            printErr(usageText)
            return .usage
        }
        // `mojo-bridge tail --help`: help for a command is the usage (not an unknown option);
        // what follows `--` belongs to a pipe's child.
        if ["run", "check", "tail", "send", "pipe", "spool", "ingest-mail"].contains(first),
           args.dropFirst().prefix(while: { $0 != "--" }).contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(usageText)
            return .ok
        }
        switch first {
        case "-h", "--help", "help":
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
                printErr("run `mojo-bridge --help` for usage")
                return .usage
            }
        case "check":
            do throws(UsageError) {
                let parsed = try ArgumentParser.parse(Array(args.dropFirst()), valued: CheckCommand.valued, switches: [])
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
        default:
            if first.hasPrefix("-") {
                printErr("mojo-bridge: unknown option '\(first)'")
            } else {
                printErr("mojo-bridge: unknown command '\(first)'")
            }
            printErr(usageText)
            return .usage
        }
    }
}

/// Writes one line to standard error, unbuffered.
func printErr(_ line: String) {
    var s = line
    s.append("\n")
    s.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(2, buf.baseAddress! + off, buf.count - off)
            if n < 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}
