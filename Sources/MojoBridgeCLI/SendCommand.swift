import Diagnostics
import JSON
import Mojo
import Transport

/// `mojo-bridge send`: sends TEXT (or each stdin line) as `message:send` and exits 0 once the
/// server has acknowledged every message with `message:sent`; 1 with the server's error on
/// `message:error`.
final class SendCommand: TenantSessionDelegate {
    static let valued = ConnectionOptions.valued.union(["--conversation", "--type", "--reply-to", "--timeout"])
    static let switches: Set<String> = []

    private let runtime: Runtime
    private let conversation: String
    private let messageType: String?
    private let replyTo: String?
    private let texts: [String]
    private let timeoutMs: Int
    private var session: TenantSession?
    private var stdin: LineReader?
    private var inputDone = false
    /// Messages sent and not yet answered, oldest first: the server answers in order per socket.
    private var awaiting = 0
    private var sent = 0
    private var timer: TimerID?

    init(args: ParsedArguments) throws(UsageError) {
        runtime = try Runtime(args: args, defaultLevel: .warn)
        var options = try ConnectionOptions(args)
        options.configuration.failFast = true
        guard let c = args.last("--conversation") else { throw UsageError(description: "send needs --conversation ID") }
        conversation = c
        messageType = args.last("--type")
        if let t = messageType, !MojoCommand.messageTypes.contains(t) { throw UsageError(description: "--type must be TEXT, SYSTEM or ATTACHMENT") }
        replyTo = args.last("--reply-to")
        texts = args.positional
        if let t = args.last("--timeout") {
            guard let ms = Duration.milliseconds(parsing: t) else { throw UsageError(description: "--timeout: expected a duration like 30s") }
            timeoutMs = ms
        } else {
            timeoutMs = 30_000
        }
        session = TenantSession(configuration: options.configuration, loop: runtime.loop,
                                curl: options.configuration.transport == .websocket ? nil : runtime.curl(),
                                reaper: runtime.reaper, logger: runtime.log, delegate: self)
    }

    func run() -> ExitCode {
        runtime.onStopSignal { [weak self] in
            self?.session?.stop()
            self?.runtime.finish(.failure)
        }
        session?.start()
        if texts.isEmpty {
            stdin = LineReader(fd: 0, loop: runtime.loop, onInput: { [weak self] input in
                guard let self else { return }
                switch input {
                case .line(let bytes):
                    var text = String(decoding: bytes, as: UTF8.self)
                    if text.hasSuffix("\r") { text.removeLast() }
                    if !text.isEmpty { self.send(text) }
                case .oversized(let n):
                    printErr("mojo-bridge send: skipped a line of \(n) bytes (over the 1 MiB limit)")
                }
            }, onEnd: { [weak self] _ in
                self?.inputDone = true
                self?.finishIfDone()
            })
        } else {
            for t in texts { send(t) }
            inputDone = true
        }
        armTimeout()
        finishIfDone()
        return runtime.run()
    }

    private func send(_ text: String) {
        awaiting += 1
        sent += 1
        session?.emit(.send(conversationId: conversation, content: text, type: messageType, replyToId: replyTo))
        armTimeout()
    }

    private func armTimeout() {
        if let timer { runtime.loop.cancel(timer) }
        timer = runtime.loop.schedule(afterMilliseconds: timeoutMs) { [weak self] in
            guard let self else { return }
            printErr("mojo-bridge send: no acknowledgement from the server within \(self.timeoutMs) ms (\(self.awaiting) of \(self.sent) unacknowledged)")
            self.session?.stop()
            self.runtime.finish(.timeout)
        }
    }

    private func finishIfDone() {
        guard inputDone, awaiting == 0 else { return }
        if sent == 0 {
            printErr("mojo-bridge send: nothing to send")
            runtime.finish(.usage)
        } else {
            runtime.finish(.ok)
        }
        session?.stop()
    }

    func sessionDidConnect(_ session: TenantSession, recovered: Bool) {}

    func session(_ session: TenantSession, event name: String, data: UnsafeRawBufferPointer) {
        guard name == "message:sent" || name == "message:error" else { return }
        guard let value = try? JSONValue(parsing: data), let event = try? MojoEvent(name: name, data: value) else { return }
        switch event {
        case .messageSent(_, let c, _) where c == conversation:
            awaiting -= 1
            finishIfDone()
        case .messageError(let error, let c) where c == nil || c == conversation:
            printErr("mojo-bridge send: refused by server: \(error)")
            session.stop()
            runtime.finish(.failure)
        default:
            break
        }
    }

    func session(_ session: TenantSession, refused failure: ConnectionFailure) {
        printErr("mojo-bridge send: not sent: \(failure.report)")
        session.stop()
        runtime.finish(ExitCode(failure))
    }

    func session(_ session: TenantSession, didDisconnect failure: ConnectionFailure?, reconnectInMs: Int?) {
        guard reconnectInMs == nil, let failure else { return }
        printErr("mojo-bridge send: \(failure.report)")
        runtime.finish(ExitCode(failure))
    }
}
