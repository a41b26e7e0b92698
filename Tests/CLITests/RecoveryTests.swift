import Foundation
import JSON
import Testing
import TestSupport

/// Connection state recovery (Socket.IO 4.6+) end to end through `mojo-bridge tail`, against
/// Tests/Peers/recovery_server.py: a real Engine.IO server with a hand-written Socket.IO layer
/// that offers recovery as a Node server does (python-socketio has none).
@Suite struct RecoveryTests {
    // MARK: 1. recovered

    @Test(arguments: ["websocket", "polling"])
    func missedEventsAreReplayedOnceInOrderAfterARecoveredReconnect(transport: String) throws {
        let peer = try RecoveryPeer()
        let tail = try peer.tail(transport: transport)
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let first = try #require(try peer.connects(1).first)
        let pid = try #require(first["reply"]?["pid"]?.stringValue, "the server offers recovery")

        let e1 = RecoveryPeer.event("e1")
        let o1 = try #require(try peer.emit(e1)["offset"]?.stringValue)
        #expect(tail.waitFor(e1) != nil, "e1 not printed\n\(peer.trace)\n\(tail.process.stderr)")

        // Transport lost; e2 and e3 are emitted while the client is away (atomically with the drop).
        let e2 = RecoveryPeer.event("e2"), e3 = RecoveryPeer.event("e3")
        let dropped = try peer.drop(thenEmit: [e2, e3])
        #expect(dropped["dropped"]?.intValue == 1)
        let missed = (dropped["emitted"]?.arrayValue ?? []).compactMap { $0["offset"]?.stringValue }
        #expect(missed.count == 2)

        let second = try #require(try peer.connects(2).dropFirst().first, "no reconnect\n\(tail.process.stderr)")
        #expect(second["auth"]?["pid"]?.stringValue == pid, "\(second.serialized())")
        #expect(second["auth"]?["offset"]?.stringValue == o1, "\(second.serialized())")
        #expect(second["auth"]?["token"]?.stringValue == tail.token)
        #expect(second["auth"]?["tenantId"]?.stringValue == RecoveryPeer.tenant)
        #expect(second["recovered"]?.boolValue == true, "\(second.serialized())")
        #expect(second["replayed"]?.arrayValue?.compactMap(\.stringValue) == missed, "the server replayed e2, e3")
        #expect(second["reply"]?["pid"]?.stringValue == pid)

        #expect(tail.process.waitForStderr("msg=\"connected (session recovered)\""), "\(tail.process.stderr)")
        #expect(tail.count("msg=connected") == 1, "the reconnect was logged as a plain connect\n\(tail.process.stderr)")

        // Something emitted after the recovery comes after the replayed events.
        let e4 = RecoveryPeer.event("e4")
        _ = try peer.emit(e4)
        #expect(tail.waitFor(e4) != nil, "e4 not printed\n\(peer.trace)\n\(tail.process.stderr)")
        #expect(tail.printedData() == [e1, e2, e3, e4], "printed:\n\(tail.process.stdout)\npackets:\n\(peer.trace)")
        for offset in [o1] + missed {
            #expect(!tail.process.stdout.contains(offset), "offset \(offset) leaked into the output")
        }
        #expect(tail.printedTypes() == Array(repeating: "message:new", count: 4))
        tail.expectCleanStop(transport: transport)
    }

    // MARK: 2. not recovered

    @Test func aForgottenSessionGivesAPlainConnectThoughPidAndOffsetWereSent() throws {
        let peer = try RecoveryPeer()
        let tail = try peer.tail()
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let pid = try #require(try peer.connects(1).first?["reply"]?["pid"]?.stringValue)
        let e1 = RecoveryPeer.event("e1")
        let o1 = try #require(try peer.emit(e1)["offset"]?.stringValue)
        #expect(tail.waitFor(e1) != nil, "e1 not printed\n\(peer.trace)")

        try peer.forget()
        // Missed while away, and not recoverable: must not appear.
        let lost = RecoveryPeer.event("lost")
        #expect(try peer.drop(thenEmit: [lost])["dropped"]?.intValue == 1)

        let second = try #require(try peer.connects(2).dropFirst().first, "no reconnect\n\(tail.process.stderr)")
        #expect(second["auth"]?["pid"]?.stringValue == pid, "\(second.serialized())")
        #expect(second["auth"]?["offset"]?.stringValue == o1, "\(second.serialized())")
        #expect(second["recovered"]?.boolValue == false)
        let newPid = try #require(second["reply"]?["pid"]?.stringValue)
        #expect(newPid != pid)

        #expect(tail.process.waitForStderr("msg=connected", occurrences: 2), "\(tail.process.stderr)")
        #expect(!tail.process.stderr.contains("session recovered"), "\(tail.process.stderr)")

        let e2 = RecoveryPeer.event("e2")
        _ = try peer.emit(e2)
        #expect(tail.waitFor(e2) != nil, "e2 not printed\n\(peer.trace)")
        #expect(tail.printedData() == [e1, e2], "printed:\n\(tail.process.stdout)\npackets:\n\(peer.trace)")
        tail.expectCleanStop()
    }

    // MARK: 3. nothing received yet

    @Test func noEventReceivedYetMeansNoRecoveryAttempt() throws {
        let peer = try RecoveryPeer()
        let tail = try peer.tail()
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let firstReply = try #require(try peer.connects(1).first?["reply"])
        #expect(firstReply["pid"]?.stringValue != nil)
        #expect(try peer.drop()["dropped"]?.intValue == 1)

        let second = try #require(try peer.connects(2).dropFirst().first, "no reconnect\n\(tail.process.stderr)")
        let auth = try #require(second["auth"]?.objectValue, "\(second.serialized())")
        #expect(auth["token"]?.stringValue == tail.token)
        #expect(auth["tenantId"]?.stringValue == RecoveryPeer.tenant)
        #expect(auth["pid"] == nil, "a pid without any offset: \(second.serialized())")
        #expect(auth["offset"] == nil, "\(second.serialized())")
        #expect(tail.process.waitForStderr("msg=connected", occurrences: 2), "\(tail.process.stderr)")
        #expect(!tail.process.stderr.contains("session recovered"))

        // Once an event has arrived, the next reconnect does try, with the current session's pid.
        let e1 = RecoveryPeer.event("e1")
        let o1 = try #require(try peer.emit(e1)["offset"]?.stringValue)
        #expect(tail.waitFor(e1) != nil, "e1 not printed\n\(peer.trace)")
        #expect(try peer.drop()["dropped"]?.intValue == 1)
        let third = try #require(try peer.connects(3).dropFirst(2).first, "no second reconnect\n\(tail.process.stderr)")
        #expect(third["auth"]?["pid"]?.stringValue == second["reply"]?["pid"]?.stringValue, "\(third.serialized())")
        #expect(third["auth"]?["offset"]?.stringValue == o1, "\(third.serialized())")
        #expect(third["recovered"]?.boolValue == true)
        #expect(tail.process.waitForStderr("msg=\"connected (session recovered)\""), "\(tail.process.stderr)")
        tail.expectCleanStop()
    }

    // MARK: 4. events without offsets keep their last argument

    @Test func anEventWithAnAckIdKeepsItsLastArgumentAndDoesNotMoveTheOffset() throws {
        let peer = try RecoveryPeer()
        let tail = try peer.tail()
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let e1 = RecoveryPeer.event("e1")
        let o1 = try #require(try peer.emit(e1)["offset"]?.stringValue)
        #expect(tail.waitFor(e1) != nil, "e1 not printed\n\(peer.trace)")

        // `42<ackId>["message:new","keep-me-…"]`: a string last argument that is not an offset.
        let keep = JSONValue.string("keep-me-\(UUID().uuidString)")
        let sent = try peer.emit(args: [keep], ackId: 7)
        #expect(sent["offset"]?.isNull == true)
        #expect(sent["packet"]?.stringValue == "27" + JSONValue.array(["message:new", keep]).serialized())
        let line = tail.process.waitForLine(timeout: 15) { $0.contains(keep.stringValue!) }
        #expect(line != nil, "the ack-id event was not printed whole\nprinted:\n\(tail.process.stdout)\npackets:\n\(peer.trace)")
        #expect(tail.printedData() == [e1, keep], "printed:\n\(tail.process.stdout)")

        // Its last argument was not taken for an offset: the reconnect still names e1's.
        #expect(try peer.drop()["dropped"]?.intValue == 1)
        let second = try #require(try peer.connects(2).dropFirst().first, "no reconnect\n\(tail.process.stderr)")
        #expect(second["auth"]?["offset"]?.stringValue == o1, "\(second.serialized())")
        #expect(second["recovered"]?.boolValue == true)
        #expect(tail.process.waitForStderr("msg=\"connected (session recovered)\""), "\(tail.process.stderr)")
        tail.expectCleanStop()
    }

    @Test func withoutRecoveryOnTheServerEventsAreDeliveredWholeAndNoPidIsSent() throws {
        let peer = try RecoveryPeer(recovery: false)
        let tail = try peer.tail()
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let first = try #require(try peer.connects(1).first)
        #expect(first["reply"]?["sid"]?.stringValue != nil)
        #expect(first["reply"]?["pid"] == nil, "--no-recovery sends no pid")

        // `42["message:new","plain-…"]`: no pid, so the string is an argument, not an offset.
        let plain = JSONValue.string("plain-\(UUID().uuidString)")
        let sent = try peer.emit(args: [plain])
        #expect(sent["packet"]?.stringValue == "2" + JSONValue.array(["message:new", plain]).serialized())
        #expect(tail.process.waitForLine(timeout: 15) { $0.contains(plain.stringValue!) } != nil,
                "printed:\n\(tail.process.stdout)\npackets:\n\(peer.trace)")
        let e1 = RecoveryPeer.event("e1")
        _ = try peer.emit(e1)
        #expect(tail.waitFor(e1) != nil, "e1 not printed\n\(peer.trace)")
        #expect(tail.printedData() == [plain, e1], "printed:\n\(tail.process.stdout)")

        #expect(try peer.drop()["dropped"]?.intValue == 1)
        let second = try #require(try peer.connects(2).dropFirst().first, "no reconnect\n\(tail.process.stderr)")
        #expect(second["auth"]?["pid"] == nil, "\(second.serialized())")
        #expect(second["auth"]?["offset"] == nil, "\(second.serialized())")
        #expect(second["auth"]?["token"]?.stringValue == tail.token)
        #expect(tail.process.waitForStderr("msg=connected", occurrences: 2), "\(tail.process.stderr)")
        #expect(!tail.process.stderr.contains("session recovered"))
        tail.expectCleanStop()
    }
}

// MARK: - CONNECT_ERROR from the same peer

extension RecoveryTests {
    /// A refused CONNECT (`44{"message":...}`) ends a fail-fast `tail` with the server's message
    /// and the "permission" exit status 77, over either transport. (Over polling this was once
    /// reported as "closed by server": the channel reported its own close synchronously before
    /// the refusal was handled; the session now detaches a transport before closing it.)
    @Test(arguments: ["websocket", "polling"])
    func aRefusedConnectEndsTailWithTheServersMessage(transport: String) throws {
        let peer = try RecoveryPeer(refuse: "token rejected")
        let tail = try peer.tail(transport: transport)
        let status = tail.stop(signal: false)
        let connects = try peer.connects(1)
        #expect(connects.first?["error"]?.stringValue == "token rejected")
        #expect(status == 77, "exit status\n\(tail.process.stderr)\npackets:\n\(peer.trace)")
        #expect(tail.process.stderr.contains("authentication refused by server: token rejected"), "\(tail.process.stderr)")
        #expect(tail.process.stdout.isEmpty)
    }
}

// MARK: - The peer

/// A running Tests/Peers/recovery_server.py on a free port, stopped when released. Readiness is
/// its `{"event":"ready","port":P}` line, never a sleep; it exits by itself when our end of its
/// stdin closes, so a crashed test run leaves no server behind.
final class RecoveryPeer: @unchecked Sendable {
    // @unchecked Sendable: the Process is only started in init and stopped in stop()/deinit.
    static let tenant = "org_x"

    let port: Int
    let dir: String
    private let process: Process
    private let stdinPipe = Pipe()

    static var script: String { RepoPaths.root + "/Tests/Peers/recovery_server.py" }

    /// `recovery: false` runs it with --no-recovery; `refuse` answers every CONNECT with that CONNECT_ERROR.
    /// `arguments`: more of its options (`--ping-interval 1`, ...).
    init(recovery: Bool = true, refuse: String? = nil, arguments: [String] = []) throws {
        dir = try RepoPaths.temporaryDirectory("mojo-recovery")
        let started = try PythonLauncher.start(
            [Self.script, "--host", "127.0.0.1", "--port", "0"] + (recovery ? [] : ["--no-recovery"]) + (refuse.map { ["--refuse", $0] } ?? []) + arguments,
            stdin: stdinPipe, logPath: dir + "/server.log", name: "recovery_server.py")
        process = started.process
        guard let port = started.ready["port"]?.intValue else { throw DevServerError.badReadyLine(started.ready.serialized()) }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var control: ControlClient { ControlClient(port: port) }

    /// A distinct event payload, with what a JSON round trip could spoil (nesting, numbers, escapes).
    static func event(_ label: String) -> JSONValue {
        ["label": .string(label), "marker": .string("\(label)-\(UUID().uuidString)"),
         "message": ["content": .string("h\u{e9}llo \"\(label)\""), "n": 42, "list": [1, true, nil]]]
    }

    /// Emits `message:new` with `data` as its only argument; answers `{"offset","packet","sockets"}`.
    @discardableResult
    func emit(_ data: JSONValue, name: String = "message:new") throws -> JSONValue {
        try control.post("/control/emit", ["name": .string(name), "data": data])
    }

    /// Emits `name` with these arguments, with an ack id if given (then no offset is appended).
    @discardableResult
    func emit(args: [JSONValue], ackId: Int? = nil, name: String = "message:new") throws -> JSONValue {
        var body: JSONObject = ["name": .string(name), "args": .array(args)]
        if let ackId { body["ackId"] = JSONValue(ackId) }
        return try control.post("/control/emit", .object(body))
    }

    /// Closes every client's transport (no DISCONNECT), then emits `thenEmit` (`message:new`
    /// payloads) before any client can be back.
    @discardableResult
    func drop(thenEmit: [JSONValue] = []) throws -> JSONValue {
        try control.post("/control/drop", ["thenEmit": .array(thenEmit.map { ["name": "message:new", "data": $0] })])
    }

    /// Stops the server process (SIGSTOP): it answers nothing until `thaw()`.
    func freeze() { kill(process.processIdentifier, SIGSTOP) }
    /// Resumes a frozen server (SIGCONT).
    func thaw() { kill(process.processIdentifier, SIGCONT) }

    /// Discards every session kept for recovery.
    func forget() throws { try control.post("/control/forget", [:]) }

    /// The CONNECTs received, once there are at least `n` (long-poll, up to `timeout` seconds).
    func connects(_ n: Int, timeout: Int = 20) throws -> [JSONValue] {
        let r = try control.get("/control/wait?connects=\(n)&timeout=\(timeout)")
        return r["connects"]?.arrayValue ?? []
    }

    /// Every Socket.IO packet in and out so far, one per line (for failure messages).
    var trace: String {
        guard let t = try? control.get("/control/trace")["trace"]?.arrayValue else { return "(no trace)" }
        return t.map { $0.serialized() }.joined(separator: "\n")
    }

    /// A JWT-shaped token (unsigned: the client only reads `sub` and `exp`) in a 0600 file.
    func tokenFile(subject: String = "user_bridge") throws -> (path: String, token: String) {
        func b64url(_ v: JSONValue) -> String {
            Data(v.serialized().utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let exp = Int(Date().timeIntervalSince1970) + 3600
        let token = b64url(["alg": "HS256", "typ": "JWT"]) + "." + b64url(["sub": .string(subject), "exp": JSONValue(exp)]) + ".c2ln"
        let path = dir + "/token"
        _ = FileManager.default.createFile(atPath: path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        return (path, token)
    }

    /// Starts `mojo-bridge tail` against this peer at info level.
    func tail(transport: String = "websocket") throws -> Tail {
        let (path, token) = try tokenFile()
        let p = try BridgeProcess(["tail", "--url", url, "--tenant", Self.tenant, "--token-file", path,
                                   "--transport", transport, "--log-level", "info"])
        return Tail(process: p, token: token)
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit {
        stop()
        try? stdinPipe.fileHandleForWriting.close()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// A `mojo-bridge tail` run by a test and the token it was given.
final class Tail {
    let process: BridgeProcess
    let token: String
    private var status: Int32?

    init(process: BridgeProcess, token: String) {
        self.process = process
        self.token = token
    }

    /// Waits for the line printing `event` (by its unique marker).
    func waitFor(_ event: JSONValue, timeout: Double = 15) -> String? {
        guard let marker = event["marker"]?.stringValue else { return nil }
        return process.waitForLine(timeout: timeout) { $0.contains(marker) }
    }

    /// Stops the tail with SIGINT and expects exit status 0 (over polling this once aborted in
    /// `CurlMulti.deinit`; fixed by detaching libcurl's callbacks before cleanup).
    func expectCleanStop(transport: String = "websocket", sourceLocation: SourceLocation = #_sourceLocation) {
        let status = stop()
        #expect(status == 0, "tail did not stop cleanly\n\(process.stderr)", sourceLocation: sourceLocation)
    }

    /// The `data` of every printed line, in order (`nil` for a line that is not an envelope).
    func printedData() -> [JSONValue?] {
        process.lines.map { (try? JSONValue(parsing: $0))?["data"] }
    }

    /// The `type` of every printed line, in order.
    func printedTypes() -> [String?] {
        process.lines.map { (try? JSONValue(parsing: $0))?["type"]?.stringValue }
    }

    /// How often `text` occurs on stderr.
    func count(_ text: String) -> Int { process.stderr.components(separatedBy: text).count - 1 }

    /// SIGINT (unless `signal` is false: a tail that ends by itself), then waits for the exit;
    /// returns the exit status (0 for a clean stop). Once only:
    /// later calls return the same status without signalling a reaped pid.
    @discardableResult
    func stop(signal: Bool = true) -> Int32 {
        if let status { return status }
        if signal { process.signal(SIGINT) }
        let s = process.wait()
        status = s
        return s
    }
}
