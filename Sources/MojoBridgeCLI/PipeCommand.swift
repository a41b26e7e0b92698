import Diagnostics
import Mojo
import Relay
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// `mojo-bridge pipe CONN [--conversation ID]... -- CMD ARG...`: one child process bridged to MOJO,
/// without a config file. The same machinery as `run`: a one-route, one-sink bridge built from the
/// command line. Ends when the child does, with its exit status.
final class PipeCommand {
    static let valued = ConnectionOptions.valued.union(["--conversation", "--format", "--events", "--template"])
    static let switches: Set<String> = ["--include-self"]
    /// Event bytes held in memory for the child before the session pauses reading.
    static let memoryQueueBytes = 2 << 20

    private let runtime: Runtime
    private let config: BridgeConfig
    private var bridge: Bridge?
    private var childStatus: ExitCode?

    init(args: ParsedArguments) throws(UsageError) {
        guard let argv = args.trailing, !argv.isEmpty else {
            throw UsageError(description: "pipe needs a command after `--`: mojo-bridge pipe CONN -- CMD ARG...")
        }
        guard args.positional.isEmpty else { throw UsageError(description: "unexpected argument '\(args.positional[0])' (the command goes after `--`)") }
        runtime = try Runtime(args: args, defaultLevel: .warn)
        let options = try ConnectionOptions(args)
        let session = options.configuration
        guard let tenant = session.tenant else { throw UsageError(description: "pipe needs --tenant ID (or MOJO_TENANT)") }
        let format: PipeSinkSettings.Format
        switch args.last("--format") ?? "json" {
        case "json": format = .json
        case "text": format = .text
        case let other: throw Help.badChoice("--format", other, ["json", "text"])
        }
        var kinds: Set<EventKind> = [.message]
        if let list = args.last("--events") {
            kinds = []
            for word in list.split(separator: ",").map({ String($0).trimmingCharacters() }) {
                if word == "all" { kinds.formUnion([.message, .typing, .read, .presence, .conversation, .gap]); continue }
                guard let k = EventKind(rawValue: word) else {
                    throw Help.badChoice("--events", word, ["message", "typing", "read", "presence", "conversation", "gap", "all"])
                }
                kinds.insert(k)
            }
        }
        let token: SecretRef
        switch session.token {
        case .environment(let name): token = .env(name)
        case .file(let path): token = .file(path)
        case .command(let argv): token = .command(argv)
        case .literal: token = .env("MOJO_TOKEN")
        }
        let here = SourceLocation(file: "<command line>", line: 1, column: 1)
        var server = ServerSettings(url: session.url.description, caFile: session.tls.caFile,
                                    connectTimeout: .milliseconds(session.connectTimeoutMs), location: here)
        server.url = (session.url.secure ? "wss://" : "ws://") + session.url.hostHeader + session.url.path
        switch session.transport {
        case .websocket: server.transport = .websocket
        case .polling: server.transport = .polling
        case .upgrade: server.transport = .upgrade
        case .auto: server.transport = .auto
        }
        let conversations = args.all("--conversation")
        var template: Template?
        if let text = args.last("--template") {
            do throws(ConfigError) {
                template = try Template(parsing: text, location: SourceLocation(file: "--template", line: 1, column: 1))
            } catch {
                throw UsageError(description: "--template: \(error.message)" + (error.hint.map { " (hint: \($0))" } ?? ""))
            }
        }
        config = BridgeConfig(
            server: server,
            tenants: [TenantSettings(id: tenant, token: token, conversations: conversations, location: here)],
            sinks: [SinkSettings(name: "pipe", kind: .pipe(PipeSinkSettings(command: argv, per: .route, format: format)),
                                 queue: 10_000, whenFull: .block, location: here)],
            // Events of the chosen kinds go down; every kind of command may come back up.
            routes: [Route(name: "pipe", conversations: conversations, events: kinds,
                           includeSelf: args.switches.contains("--include-self"), sinks: ["pipe"], flow: .to_sink, template: template,
                           continues: true),
                     Route(name: "pipe-commands", conversations: conversations,
                           events: [.message, .typing, .read, .presence, .conversation], sinks: ["pipe"], flow: .from_sink)],
            // The queue lives in memory: past 2 MiB waiting for a slow child, the session stops
            // reading from MOJO until the child caught up (when_full = block: backpressure).
            spool: SpoolSettings(maxSize: Self.memoryQueueBytes), log: LogSettings())
    }

    func run() -> ExitCode {
        var hidden: Set<String> = ["MOJO_TOKEN"]
        if case .env(let name) = config.tenants[0].token {
            hidden.insert(name)
            // Nothing could ever connect: say so now rather than retrying forever beside the child.
            if (getenv(name).map { String(cString: $0) } ?? "").isEmpty {
                printErr("mojo-bridge pipe: no token: \(name) is unset or empty (use --token-file or --token-command)")
                return .config
            }
        }
        let loop = runtime.loop, reaper = runtime.reaper, log = runtime.log
        var pipe: PipeSink?
        let bridge = Bridge(config: config, loop: loop, reaper: reaper, curl: runtime.curl(), logger: log, durable: false) { [weak self] settings, host throws(SinkSetupError) in
            guard let p = settings.kind.settings(as: PipeSinkSettings.self) else { return nil }
            let sink = PipeSink(settings: settings, pipe: p, loop: loop, reaper: reaper, logger: log, host: host, hiddenEnvironment: hidden)
            sink.endWithChild { status in self?.childEnded(status) }
            pipe = sink
            return sink
        }
        self.bridge = bridge
        runtime.onStopSignal { [weak self] in
            self?.bridge?.shutdown(graceMs: 5000) { self?.runtime.finish(self?.childStatus ?? .ok) }
        }
        do { try bridge.start() } catch {
            printErr("mojo-bridge pipe: \(error.description)")
            return .software
        }
        // The child runs from the start, so it can speak first (send, typing) before any event.
        let conversations = config.routes[0].conversations
        pipe?.startNow(route: "pipe", tenant: config.tenants[0].id, conversation: conversations.count == 1 ? conversations[0] : nil)
        return runtime.run()
    }

    private func childEnded(_ status: ChildExit) {
        let code: Int32
        switch status {
        case .exited(let c): code = c
        case .signalled(let s): code = 128 + s
        }
        childStatus = ExitCode(raw: code)
        // Its last lines were read before this call: leave once the server has them (bounded).
        bridge?.whenSettled(timeoutMs: 10_000) { [weak self] in
            self?.bridge?.shutdown(graceMs: 1000) { self?.runtime.finish(self?.childStatus ?? .ok) }
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
