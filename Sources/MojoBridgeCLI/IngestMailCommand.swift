import Diagnostics
import JSON
import Mail
import Mojo
import Relay
import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// `mojo-bridge ingest-mail [--config F] [--recipient ADDR]`: one RFC 5322 message on stdin, as
/// an MTA's pipe transport hands it (Postfix `pipe`, procmail, fetchmail `--mda`).
///
/// The message is judged by the email sink whose `reply_to` it is addressed to (the same checks
/// as the daemon's IMAP poller); a reply is posted by connecting as the bridge user of the
/// tenant the key names: `message:send` and `messages:read`, then the process waits for
/// `message:sent` and exits 0. Exit codes follow sysexits(3), which MTAs understand:
/// 0 posted or deliberately dropped (auto-reply, bounce, duplicate, nothing left after trimming);
/// 65 malformed or over `max_size`; 67 not one of our reply addresses or a key that does not
/// verify; 77 sender refused (another From, DMARC required and missing, no route allows it,
/// the server refused the message); 75 temporary (MOJO unreachable, timeout): the MTA retries.
final class IngestMailCommand: TenantSessionDelegate {
    static let valued: Set<String> = ["--config", "--recipient", "--timeout", "--log-level", "--log-format"]

    private let runtime: Runtime
    private let path: String
    private let recipient: String?
    private let timeoutMs: Int
    private var session: TenantSession?
    private var reply: EmailInbound.Reply?
    private var seen: EmailSeenSet?

    init(args: ParsedArguments) throws(UsageError) {
        guard args.positional.isEmpty, args.trailing == nil else { throw UsageError(description: "ingest-mail takes no positional arguments") }
        runtime = try Runtime(args: args, defaultLevel: .warn)
        path = ConfigFile.path(args)
        recipient = args.last("--recipient")
        if let t = args.last("--timeout") {
            guard let ms = Duration.milliseconds(parsing: t) else { throw UsageError(description: "--timeout: expected a duration like 30s") }
            timeoutMs = ms
        } else {
            timeoutMs = 30_000
        }
    }

    func run() -> ExitCode {
        // A broken config is temporary for the MTA: fixed, the mail goes through on the next try.
        guard let config = ConfigFile.load(path, prefix: "mojo-bridge ingest-mail: ", suffix: " in the configuration") else { return .timeout }
        var sinks: [(SinkSettings, EmailInbound)] = []
        for s in config.sinks {
            guard let email = s.kind.settings(as: EmailSinkSettings.self), email.replyTo != nil else { continue }
            do throws(SinkSetupError) {
                let setup = try EmailReplySetup(settings: s, email: email, tenants: config.tenants.map(\.id))
                sinks.append((s, EmailInbound(setup: setup, policy: InboundPolicy(authservId: email.authservId), maxSize: email.maxSize)))
            } catch {
                printErr("mojo-bridge ingest-mail: \(error.description)")
                return .timeout
            }
        }
        guard !sinks.isEmpty else {
            printErr("mojo-bridge ingest-mail: no email sink with reply_to in \(path)")
            return .noUser
        }
        let limit = sinks.map(\.1.maxSize).max() ?? 0
        guard let bytes = Self.readStandardInput(limit: limit + 1) else {
            printErr("mojo-bridge ingest-mail: cannot read standard input")
            return .timeout
        }
        if bytes.count > limit {
            printErr("mojo-bridge ingest-mail: refused: the message is over max_size (\(limit) bytes)")
            return .dataError
        }
        // The sink the message is addressed to: the first whose verdict is not "not ours".
        var chosen: (SinkSettings, EmailInbound.Verdict)?
        for (settings, inbound) in sinks {
            let verdict = inbound.judge(bytes, envelopeRecipient: recipient)
            if case .unknownAddress(let why) = verdict, why.hasPrefix("no reply address") { continue }
            chosen = (settings, verdict)
            break
        }
        guard let (sink, verdict) = chosen else {
            printErr("mojo-bridge ingest-mail: refused: not addressed to a reply address of this bridge")
            return .noUser
        }
        let log = runtime.log.with("sink", sink.name)
        switch verdict {
        case .malformed(let why):
            log.warn("reply mail refused", [("refusal", verdict.label), ("reason", why)])
            printErr("mojo-bridge ingest-mail: refused: \(why)")
            return .dataError
        case .unknownAddress(let why):
            log.warn("reply mail refused", [("refusal", verdict.label), ("reason", why)])
            printErr("mojo-bridge ingest-mail: refused: \(why)")
            return .noUser
        case .refusedSender(let why):
            log.warn("reply mail refused", [("refusal", verdict.label), ("reason", why)])
            printErr("mojo-bridge ingest-mail: refused: \(why)")
            return .authRefused
        case .ignored(let why, _):
            log.info("reply mail ignored", [("reason", why)])
            return .ok
        case .post(let reply):
            let files = EmailStateFiles(spoolDirectory: config.spool.directory, sink: sink.name)
            let seen = EmailSeenSet(files: files)
            if let id = reply.messageId, seen.contains(id) {
                log.info("reply mail already posted; ignored", [("message_id", id)])
                return .ok
            }
            var payload = JSONObject()
            payload["conversationId"] = .string(reply.conversation)
            payload["content"] = .string(reply.text)
            let event = RoutableEvent(tenant: reply.tenant, type: "message:send", payload: .object(payload), direction: .fromSink,
                                      selfUserId: nil, sourceSink: sink.name)
            guard config.routes.contains(where: { $0.matches(event) }) else {
                printErr("mojo-bridge ingest-mail: refused: no route lets sink \(sink.name) send to conversation \(reply.conversation)")
                return .authRefused
            }
            guard let tenant = config.tenant(id: reply.tenant),
                  var configuration = try? SessionConfiguration(server: config.server, tenant: tenant, join: []) else {
                printErr("mojo-bridge ingest-mail: tenant \(reply.tenant) is not configured")
                return .timeout
            }
            configuration.failFast = true
            self.reply = reply
            self.seen = seen
            session = TenantSession(configuration: configuration, loop: runtime.loop,
                                    curl: configuration.transport == .websocket ? nil : runtime.curl(),
                                    reaper: runtime.reaper, logger: runtime.log, delegate: self)
            runtime.loop.schedule(afterMilliseconds: timeoutMs) { [weak self] in
                printErr("mojo-bridge ingest-mail: no acknowledgement from MOJO within \(self?.timeoutMs ?? 0) ms; the MTA should retry")
                self?.session?.stop()
                self?.runtime.finish(.timeout)
            }
            runtime.onStopSignal { [weak self] in
                self?.session?.stop()
                self?.runtime.finish(.timeout)
            }
            session?.start()
            // Sent once connected (queued until then); the server answers in order per socket.
            _ = session?.emit(.send(conversationId: reply.conversation, content: reply.text, replyToId: reply.replyToId))
            _ = session?.emit(.read(conversationId: reply.conversation))
            return runtime.run()
        }
    }

    /// Standard input, at most `limit` bytes (more is not read: the caller refuses the message).
    static func readStandardInput(limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while out.count < limit {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, min($0.count, limit - out.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
        }
        // Over the limit: read the rest without keeping it, so the MTA's write does not fail
        // with a broken pipe before it sees the exit status.
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
        }
        return out
    }

    func sessionDidConnect(_ session: TenantSession, recovered: Bool) {}

    func session(_ session: TenantSession, event name: String, data: UnsafeRawBufferPointer) {
        guard let reply, name == "message:sent" || name == "message:error" else { return }
        guard let value = try? JSONValue(parsing: data), let event = try? MojoEvent(name: name, data: value) else { return }
        switch event {
        case .messageSent(_, let c, _) where c == reply.conversation:
            if let id = reply.messageId { seen?.insert(id) }
            runtime.log.info("reply by mail posted", [("tenant", reply.tenant), ("conversation", reply.conversation), ("from", reply.sender)])
            session.stop()
            runtime.finish(.ok)
        case .messageError(let error, let c) where c == nil || c == reply.conversation:
            printErr("mojo-bridge ingest-mail: refused by MOJO: \(error)")
            session.stop()
            runtime.finish(.authRefused)
        default:
            break
        }
    }

    func session(_ session: TenantSession, refused failure: ConnectionFailure) {
        printErr("mojo-bridge ingest-mail: not posted: \(failure); the MTA should retry")
        session.stop()
        runtime.finish(.timeout)
    }

    func session(_ session: TenantSession, didDisconnect failure: ConnectionFailure?, reconnectInMs: Int?) {
        guard reconnectInMs == nil, let failure else { return }
        printErr("mojo-bridge ingest-mail: \(failure); the MTA should retry")
        runtime.finish(.timeout)
    }
}

extension ExitCode {
    /// The address is not one this bridge accepts (EX_NOUSER).
    static let noUser = ExitCode(raw: 67)
}
