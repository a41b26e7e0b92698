import Diagnostics
import JSON
import Mojo
import Transport

/// `mojo-bridge tail`: every server event as one JSON line (the shared vocabulary) on stdout.
///
/// Backpressure: when stdout takes lines slower than the server sends them (`| slow-reader`),
/// more than `stdoutHighWater` bytes waiting pauses reading the socket; it resumes once stdout
/// has taken them all. Memory stays bounded; nothing is dropped (see TenantSession+Backpressure).
final class TailCommand: TenantSessionDelegate {
    /// Bytes waiting for stdout above which the session stops reading.
    static let stdoutHighWater = 1 << 20

    static let valued = ConnectionOptions.valued.union(["--conversation", "--type"])
    static let switches: Set<String> = ["--retry"]

    private let runtime: Runtime
    private let conversations: Set<String>
    private let types: Set<String>
    private let tenantName: String
    private var session: TenantSession?
    private let stdout: FDWriter
    private var pending: [UInt8] = []
    private var flushScheduled = false
    private var ids = EventIDGenerator()

    init(args: ParsedArguments) throws(UsageError) {
        guard args.positional.isEmpty else { throw UsageError(description: "tail takes no positional arguments (got '\(args.positional[0])')") }
        runtime = try Runtime(args: args, defaultLevel: .warn)
        var options = try ConnectionOptions(args)
        options.configuration.failFast = !args.switches.contains("--retry")
        conversations = Set(args.all("--conversation"))
        types = Set(args.all("--type"))
        tenantName = options.configuration.tenant ?? ""
        stdout = FDWriter(fd: 1, loop: runtime.loop)
        pending.reserveCapacity(1 << 16)
        session = TenantSession(configuration: options.configuration, loop: runtime.loop,
                                curl: options.configuration.transport == .websocket ? nil : runtime.curl(),
                                reaper: runtime.reaper, logger: runtime.log, delegate: self)
    }

    func run() -> ExitCode {
        stdout.onDrain = { [weak self] in self?.session?.resumeReading("stdout") }
        stdout.onError = { [weak self] _ in
            // The reader went away (`| head`): a normal end for a tail.
            self?.session?.stop()
            self?.runtime.finish(.ok)
        }
        runtime.onStopSignal { [weak self] in
            self?.flush()
            self?.session?.stop()
            self?.runtime.finish(.ok)
        }
        session?.start()
        return runtime.run()
    }

    func sessionDidConnect(_ session: TenantSession, recovered: Bool) {}

    func session(_ session: TenantSession, event name: String, data: UnsafeRawBufferPointer) {
        if !types.isEmpty && !types.contains(name) { return }
        if !conversations.isEmpty {
            guard let value = try? JSONValue(parsing: data),
                  let c = value["conversationId"]?.stringValue ?? value["message"]?["conversationId"]?.stringValue,
                  conversations.contains(c) else { return }
        }
        let id = ids.next(tenant: tenantName, type: name, data: data)
        Envelope.encode(id: id, type: name, tenant: tenantName, data: data, into: &pending)
        pending.append(0x0A)
        if pending.count + stdout.pendingBytes > Self.stdoutHighWater { session.pauseReading("stdout") }
        // One write per loop turn, however many events that turn brought.
        if !flushScheduled {
            flushScheduled = true
            runtime.loop.schedule(afterMilliseconds: 0) { [weak self] in self?.flush() }
        }
    }

    func session(_ session: TenantSession, didDisconnect failure: ConnectionFailure?, reconnectInMs: Int?) {
        guard reconnectInMs == nil else { return }
        flush()
        if let failure {
            printErr("mojo-bridge tail: \(failure.report)")
            runtime.finish(ExitCode(failure))
        } else {
            runtime.finish(.ok)
        }
    }

    private func flush() {
        flushScheduled = false
        guard !pending.isEmpty else { return }
        stdout.write(pending)
        // A burst's capacity is not kept (one loop turn may bring up to a high-water's worth).
        pending.removeAll(keepingCapacity: pending.capacity <= 1 << 16)
        // Everything went out at once: nothing will call onDrain, so resume here.
        if stdout.pendingBytes == 0 { session?.resumeReading("stdout") }
    }
}
