import Rules

/// The command-line reference, in one place: the global and per-command `--help` pages, the
/// bash and zsh completion scripts and the man page are all generated from these tables.
struct OptionSpec {
    /// `--config`, or `-v` and `--verbose` for one option with two spellings.
    var names: [String]
    /// The value's placeholder (`FILE`), nil for a switch.
    var value: String?
    var help: String
    /// The accepted values, when they are a fixed set (completed, and suggested on a typo).
    var choices: [String] = []
    /// Whether the value is a path (completed as a file name).
    var isPath = false

    var name: String { names.last ?? "" }
}

struct CommandSpec {
    var name: String
    /// Synopsis lines after `mojo-bridge NAME `.
    var synopsis: [String]
    /// One line for the command list.
    var summary: String
    /// A paragraph for the command's own page.
    var details: String
    var options: [OptionSpec]
    /// Whether the connection options (CONN) apply.
    var takesConnection = false
    /// Words completed in the first positional place (`list retry drop`, `bash zsh`).
    var positionalChoices: [String] = []
    /// Whether positional arguments are files.
    var positionalFiles = false
}

enum Help {
    static let logLevels = ["debug", "info", "warn", "error"]
    static let logFormats = ["logfmt", "json"]
    static let transports = ["websocket", "polling", "upgrade", "auto"]

    static let logOptions: [OptionSpec] = [
        OptionSpec(names: ["--log-level"], value: "LEVEL", help: "debug | info | warn | error (warning is accepted too)", choices: logLevels),
        OptionSpec(names: ["--log-format"], value: "FORMAT", help: "logfmt | json (default logfmt)", choices: logFormats),
    ]

    static let connection: [OptionSpec] = [
        OptionSpec(names: ["--url"], value: "URL", help: "MOJO server, ws:// wss:// http:// https:// (or MOJO_URL)"),
        OptionSpec(names: ["--tenant"], value: "ID", help: "tenant (organisation) id (or MOJO_TENANT)"),
        OptionSpec(names: ["--token-file"], value: "PATH", help: "read the JWT from PATH at every connect", isPath: true),
        OptionSpec(names: ["--token-command"], value: "CMD", help: "run CMD (no shell) at every connect; its stdout is the JWT; without either, MOJO_TOKEN (never an argument)"),
        OptionSpec(names: ["--transport"], value: "MODE", help: "websocket | polling | upgrade | auto (default auto: websocket, falling back to polling that upgrades when WebSocket is blocked)", choices: transports),
        OptionSpec(names: ["--ca-file"], value: "PATH", help: "trust this PEM CA bundle (a self-signed or private CA) besides the system store", isPath: true),
        OptionSpec(names: ["--path"], value: "PATH", help: "Socket.IO path (default /socket.io/)"),
        OptionSpec(names: ["--namespace"], value: "NSP", help: "Socket.IO namespace (default /)"),
        OptionSpec(names: ["--connect-timeout"], value: "D", help: "TCP/TLS connect timeout (default 10s)"),
    ]

    static let config = OptionSpec(names: ["--config"], value: "FILE", help: "the configuration (default MOJO_BRIDGE_CONFIG, else /etc/mojo-bridge/bridge.conf)", isPath: true)

    static let commands: [CommandSpec] = [
        CommandSpec(name: "run", synopsis: ["[--config FILE] [--shutdown-timeout 10s] [--shard i/N|auto/N]"],
                    summary: "run the daemon (SIGHUP reloads, SIGTERM stops)",
                    details: "Holds one Socket.IO session per tenant and routes events to the sinks the rules name; replies go back to MOJO. Every event is spooled until its sink has it.",
                    options: [config, OptionSpec(names: ["--shutdown-timeout"], value: "D", help: "how long a graceful stop may take (default 10s)"),
                              OptionSpec(names: ["--shard"], value: "i/N", help: "only the tenants of shard i of N (rendezvous hashing on the tenant id); auto/N takes i from the host name's ordinal (or MOJO_SHARD)")] + logOptions),
        CommandSpec(name: "check", synopsis: ["[--config FILE] [--no-secrets] [--fragment] [--event FILE|-] [--self USER] [--expect ROUTES] [--shard i/N]"],
                    summary: "validate config and rules offline; exit 0 or 1; with --event, show the routes events take",
                    details: "Reports every error as file:line:col. Without --no-secrets it also checks what `run` needs: secrets set, readable and well-formed (webhook keys, tokens), pipe programs executable. --event reads events as JSON lines (what `tail` prints; - is stdin) and shows each route's verdict; the exit status is 0 when every event took a route (or exactly the routes --expect names), else 1. The bridge's own user is the token's `sub` when it can be read, else --self.",
                    options: [config,
                              OptionSpec(names: ["--no-secrets"], help: "check secret and CA file references for shape only: no environment or files read (for CI)"),
                              OptionSpec(names: ["--fragment"], help: "the file may lack server and tenant blocks (a rule file checked alone)"),
                              OptionSpec(names: ["--event"], value: "FILE", help: "events in the shared vocabulary, one JSON object per line; - reads stdin", isPath: true),
                              OptionSpec(names: ["--self"], value: "USER", help: "the bridge's own user id (default: the token's sub)"),
                              OptionSpec(names: ["--expect"], value: "ROUTES", help: "comma-separated routes every event must take, in order; none for no route"),
                              OptionSpec(names: ["--shard"], value: "i/N", help: "list the tenants shard i of N holds")]),
        CommandSpec(name: "test", synopsis: ["[--config FILE] [--self USER] [-v] TESTFILE..."],
                    summary: "unit-test rule files: events with expected routes and sink bodies; exit 1 with a diff",
                    details: "A test file is JSON lines: events in the shared vocabulary (tail's output works as is), each followed by an optional {\"expect\": {\"routes\": [...], \"sinks\": {\"NAME\": BODY}}} line, and the directives {\"config\": \"PATH\"} and {\"self\": \"USER\"}. Runs offline; secrets are not read. Format: Config/GRAMMAR.md, \"Testing rules\".",
                    options: [config,
                              OptionSpec(names: ["--self"], value: "USER", help: "the bridge's own user id for every event"),
                              OptionSpec(names: ["-v", "--verbose"], help: "print passing tests too")],
                    positionalFiles: true),
        CommandSpec(name: "tail", synopsis: ["CONN [--conversation ID]... [--type EVENT]... [--retry]"],
                    summary: "print MOJO events as JSON lines on stdout",
                    details: "One event per line in the shared vocabulary. Gives up with an exit code when the first connection fails (--retry never gives up) and reconnects forever after that.",
                    options: [OptionSpec(names: ["--conversation"], value: "ID", help: "only this conversation (repeatable)"),
                              OptionSpec(names: ["--type"], value: "EVENT", help: "only this event name, e.g. message:new (repeatable)"),
                              OptionSpec(names: ["--retry"], help: "keep trying when the first connection fails")] + logOptions,
                    takesConnection: true),
        CommandSpec(name: "send", synopsis: ["CONN --conversation ID [--type T] [--reply-to ID] [--timeout 30s] [TEXT...]"],
                    summary: "send TEXT, or each stdin line; exit 0 when acknowledged",
                    details: "Exits 0 once the server answered every message with message:sent, 1 on message:error.",
                    options: [OptionSpec(names: ["--conversation"], value: "ID", help: "the conversation to write to"),
                              OptionSpec(names: ["--type"], value: "T", help: "message type (default TEXT)", choices: ["TEXT", "SYSTEM", "ATTACHMENT"]),
                              OptionSpec(names: ["--reply-to"], value: "ID", help: "the message this one answers"),
                              OptionSpec(names: ["--timeout"], value: "D", help: "how long to wait for acknowledgements (default 30s)")] + logOptions,
                    takesConnection: true),
        CommandSpec(name: "pipe", synopsis: ["CONN [--conversation ID]... [--format json|text] [--template TPL] [--events KINDS] [--include-self] -- CMD ARG..."],
                    summary: "bridge a child process to MOJO (no shell; exits with its status)",
                    details: "The child reads events on stdin, one per line, and prints commands (or plain text lines: messages to its conversation). --format text sends the template, by default \"{sender.name}: {content}\"; --template \"{content}\" sends the text alone.",
                    options: [OptionSpec(names: ["--conversation"], value: "ID", help: "only this conversation (repeatable)"),
                              OptionSpec(names: ["--format"], value: "FORMAT", help: "json (the shared vocabulary) | text (the template as one line)", choices: ["json", "text"]),
                              OptionSpec(names: ["--template"], value: "TPL", help: "what the child receives per event, e.g. \"{content}\" (fields: Config/GRAMMAR.md)"),
                              OptionSpec(names: ["--events"], value: "KINDS", help: "comma-separated: message, typing, read, presence, conversation, gap, all (default message)",
                                         choices: ["message", "typing", "read", "presence", "conversation", "gap", "all"]),
                              OptionSpec(names: ["--include-self"], help: "also pass the bridge's own messages")] + logOptions,
                    takesConnection: true),
        CommandSpec(name: "spool", synopsis: ["[--config FILE] list [--sink S] [--dead|--pending] [--json]",
                                              "[--config FILE] retry|drop [--sink S] (ID... | --all) [--pending]"],
                    summary: "inspect the durable spool; retry or drop dead letters",
                    details: "With the daemon stopped (a running daemon retries dead letters on POST /v1/spool/<sink>/retry). `list` prints one tab-separated row per event on stdout and the per-sink summary on stderr; --json prints one JSON object per event. `drop` and `retry` exit 1 when an id is not in the spool.",
                    options: [config,
                              OptionSpec(names: ["--sink"], value: "S", help: "only this sink"),
                              OptionSpec(names: ["--dead"], help: "list: dead letters only"),
                              OptionSpec(names: ["--pending"], help: "list: pending only; drop: pending events too"),
                              OptionSpec(names: ["--all"], help: "retry or drop every dead letter"),
                              OptionSpec(names: ["--json"], help: "list: one JSON object per event")],
                    positionalChoices: ["list", "retry", "drop"]),
        CommandSpec(name: "ingest-mail", synopsis: ["[--config FILE] [--recipient ADDR] [--timeout 30s] < MESSAGE"],
                    summary: "post the email reply on stdin to its conversation (an MTA pipe transport)",
                    details: "Reads one RFC 5322 message, checks its reply key and sender, trims quotes and signatures, connects as the bridge user of the tenant and posts the reply. Exit 0 posted (or ignored: an auto-reply, a duplicate), 65 malformed or too large, 67 unknown address or bad key, 75 temporary (MOJO unreachable: the MTA retries), 77 refused sender.",
                    options: [config,
                              OptionSpec(names: ["--recipient"], value: "ADDR", help: "the envelope recipient (Postfix ${original_recipient}); default: the To/Delivered-To header"),
                              OptionSpec(names: ["--timeout"], value: "D", help: "how long to wait for message:sent (default 30s)")] + logOptions),
        CommandSpec(name: "health", synopsis: ["[--url http://127.0.0.1:9090/healthz] [--timeout 2s]"],
                    summary: "probe the admin API: exit 0 on 2xx, else 1 (container HEALTHCHECK, exec probes)",
                    details: "Plain http:// only, no shell or curl needed in the image. The URL defaults to MOJO_HEALTH_URL, else http://127.0.0.1:9090/healthz.",
                    options: [OptionSpec(names: ["--url"], value: "URL", help: "what to probe (default MOJO_HEALTH_URL or http://127.0.0.1:9090/healthz)"),
                              OptionSpec(names: ["--timeout"], value: "D", help: "how long to wait (default 2s)")]),
        CommandSpec(name: "status", synopsis: ["[--url http://127.0.0.1:9090] [--once] [--json] [--timeout 2s]"],
                    summary: "the daemon's live view: sessions, sinks, backlog, rates (refreshed every second)",
                    details: "Reads GET /v1/status of the admin API (no token needed) and redraws every second on a terminal, like `vector top`: per tenant the session state, transport, since when, reconnects and whether the last one was recovered (a gap: events of the interval may be lost); per sink pending, in flight, dead, events/s over the last 10 s, child restarts, spool size and the last error. --once, or output that is not a terminal, prints one snapshot; --json prints the API's JSON. Exit 1 when the daemon cannot be reached (--once, --json). The URL defaults to MOJO_ADMIN_URL, else http://127.0.0.1:9090.",
                    options: [OptionSpec(names: ["--url"], value: "URL", help: "the admin API (default MOJO_ADMIN_URL or http://127.0.0.1:9090)"),
                              OptionSpec(names: ["--once"], help: "print one snapshot and exit (scripts, tests)"),
                              OptionSpec(names: ["--json"], help: "print GET /v1/status as JSON once"),
                              OptionSpec(names: ["--timeout"], value: "D", help: "how long to wait for an answer (default 2s)")]),
        CommandSpec(name: "completion", synopsis: ["bash|zsh"],
                    summary: "print a shell completion script",
                    details: "bash: `source <(mojo-bridge completion bash)`; zsh: `mojo-bridge completion zsh > \"${fpath[1]}/_mojo-bridge\"`.",
                    options: [], positionalChoices: ["bash", "zsh"]),
        CommandSpec(name: "man", synopsis: [""],
                    summary: "print the man page (roff): mojo-bridge man > mojo-bridge.1",
                    details: "Generated from the same tables as --help.", options: []),
    ]

    static let global: [OptionSpec] = [
        OptionSpec(names: ["-h", "--help"], help: "show this help (mojo-bridge COMMAND --help: that command's)"),
        OptionSpec(names: ["--version"], help: "print the version"),
    ] + logOptions

    static let exitCodes = """
    exit codes: 0 ok, 1 refused by server or check/test failed, 64 usage, 65 malformed data,
    66 missing input file, 69 unreachable, 70 internal error, 75 timeout, 76 HTTP/protocol error,
    77 auth refused, 78 bad config, 80 TLS failure; pipe exits with its child's status.
    """

    /// Every environment variable the daemon reads (the README has the same table).
    static let environment = """
    environment (a flag or a config block wins over its variable, except the log ones):
      MOJO_BRIDGE_CONFIG     config file of run, check, spool (default /etc/mojo-bridge/bridge.conf)
      MOJO_LOG_LEVEL         debug | info | warn | error when --log-level is absent (beats log { level })
      MOJO_LOG_FORMAT        logfmt | json when --log-format is absent (beats log { format })
      MOJO_URL               server URL: CONN without --url; run/check without a server block
      MOJO_CA_FILE           extra CA bundle for a server taken from MOJO_URL (run/check)
      MOJO_TENANT            tenant id: CONN without --tenant; run/check without tenant blocks (one)
      MOJO_TENANTS           tenant ids (comma or space separated): run/check without tenant blocks
      MOJO_TOKEN_FILE        token file of those tenants; {tenant} is replaced by the id
      MOJO_TOKEN             the JWT: CONN without --token-file/--token-command; one env tenant
      MOJO_SHARD             i/N or auto/N (run without --shard; auto: host name ordinal)
      MOJO_HEALTH_URL        URL probed by `health` without --url
      MOJO_ADMIN_URL         admin API read by `status` without --url
      HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY (and lower case)   proxies for every transport
      NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID   systemd Type=notify and its watchdog (run)
      SSL_CERT_FILE, SSL_CERT_DIR                  OpenSSL's trust store (default the system's)
      and any NAME a config references as env:NAME
    """

    static func command(_ name: String) -> CommandSpec? { commands.first { $0.name == name } }

    /// Every option `name` accepts (for "did you mean" and the completion scripts).
    static func options(of spec: CommandSpec) -> [OptionSpec] {
        spec.options + (spec.takesConnection ? connection : []) + [OptionSpec(names: ["-h", "--help"], help: "show this help")]
    }

    private static func optionLines(_ options: [OptionSpec]) -> [String] {
        options.map { o in
            var left = o.names.joined(separator: ", ")
            if let v = o.value { left += " \(v)" }
            let pad = left.count < 23 ? String(repeating: " ", count: 23 - left.count) : "\n" + String(repeating: " ", count: 25)
            return "  \(left)\(pad)\(o.help)"
        }
    }

    /// The global page: `mojo-bridge --help`.
    static var overview: String {
        var out = ["usage: mojo-bridge <command> [options]", "",
                   "A bridge daemon for MOJO messaging: one Socket.IO session per tenant, conversations routed",
                   "to pipes and webhooks by rule files, replies relayed back, every event spooled until delivered.",
                   "", "commands:"]
        for c in commands {
            out.append("  \(c.name)" + String(repeating: " ", count: max(1, 12 - c.name.count)) + c.summary)
        }
        out += ["", "connection options (CONN, for tail, send, pipe):"] + optionLines(connection)
        out += ["", "global options:"] + optionLines(global)
        out += ["", environment]
        out += ["", "`mojo-bridge COMMAND --help` shows a command's options.", exitCodes, "More: README.md, Config/GRAMMAR.md."]
        return out.joined(separator: "\n")
    }

    /// One command's page: `mojo-bridge check --help`.
    static func page(_ c: CommandSpec) -> String {
        var out = c.synopsis.enumerated().map { i, s in (i == 0 ? "usage: " : "       ") + "mojo-bridge \(c.name) \(s)" }
        out += ["", c.summary + ".", "", wrap(c.details, width: 96)]
        if !c.options.isEmpty { out += ["", "options:"] + optionLines(c.options) }
        if c.takesConnection { out += ["", "connection options (CONN):"] + optionLines(connection) }
        out += ["", exitCodes]
        return out.joined(separator: "\n")
    }

    static func wrap(_ text: String, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    /// "did you mean" for a mistyped command, option or value; nil when nothing is close.
    static func suggestion(_ word: String, in candidates: [String]) -> String? {
        closest(to: word, in: candidates)
    }

    /// The candidate closest to `word` by edit distance (at most a third of its length away, at
    /// least 1), or one `word` is a prefix of (`--conv` for `--conversation`).
    static func closest(to word: String, in candidates: [String]) -> String? {
        if let exact = candidates.first(where: { $0.hasPrefix(word) && word.count >= 3 }), candidates.filter({ $0.hasPrefix(word) }).count == 1 {
            return exact
        }
        let bare = word.drop { $0 == "-" }
        let limit = max(1, bare.count / 3)
        var best: (String, Int)?
        for c in candidates {
            let d = Suggestion.distance(word.lowercased(), c.lowercased())
            if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    /// `unknown value `x` for --transport (did you mean `y`? choices: ...)`.
    static func badChoice(_ option: String, _ value: String, _ choices: [String]) -> UsageError {
        var text = "\(option): unknown value `\(value)`; choose one of \(choices.joined(separator: ", "))"
        if let s = closest(to: value, in: choices) { text += " (did you mean `\(s)`?)" }
        return UsageError(description: text)
    }
}
