import Foundation
import Testing
import TestSupport

/// Config input that used to crash or hang the binary (issue 12 item 5 and 6): `check` reports
/// it with file:line:col and exits 1; a running daemon refuses it on SIGHUP and keeps going.
@Suite(.serialized) struct HostileConfigTests {
    static let header = """
    server { url = "ws://127.0.0.1:9" }
    tenant org_demo { token = env:MOJO_TOKEN }
    sink bot { type = pipe  command = ["/bin/cat"] }

    """

    private func check(_ body: String, extra: [String] = [], setUp: (String) throws -> Void = { _ in }) throws -> (status: Int32, stdout: String, stderr: String) {
        let dir = try RepoPaths.temporaryDirectory("mojo-hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try setUp(dir)
        let path = dir + "/bridge.conf"
        try (Self.header + body).write(toFile: path, atomically: true, encoding: .utf8)
        return try BridgeProcess.run(["check", "--config", path] + extra.map { $0.replacingOccurrences(of: "DIR", with: dir) },
                                     environment: ["MOJO_TOKEN": "x"], timeout: 30)
    }

    @Test func hugeDurationIsAnErrorNotACrash() throws {
        let r = try check("spool { fsync = 9999999999999999d }")
        #expect(r.status == 1)
        #expect(r.stderr.contains("bridge.conf:4:17: error: `fsync` is too long: `9999999999999999d` (hint: durations are at most 365d)"))
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() throws {
        let r = try check("route r { to = bot sender = " + String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000) + " }")
        #expect(r.status == 1)
        #expect(r.stderr.contains("error: value nested too deeply (more than 32 levels)"))
    }

    @Test func includeOfAFIFOIsRefusedNotAHang() throws {
        let r = try check("include \"pipe.rules\"") { dir in
            #expect(mkfifo(dir + "/pipe.rules", 0o600) == 0)
        }
        #expect(r.status == 1)
        #expect(r.stderr.contains("bridge.conf:4:1: error: cannot read "))
        #expect(r.stderr.contains("pipe.rules: not a regular file (a FIFO, socket or device)"))
    }

    @Test func catastrophicRegexAnswersAtOnce() throws {
        let event = #"{"type":"message:new","tenant":"org_demo","data":{"message":{"conversationId":"c1","senderId":"u1","type":"TEXT","content":"\#(String(repeating: "a", count: 28))!"}}}"#
        let r = try check("route r { to = bot content = /^(a+)+$/ }", extra: ["--event", "DIR/event.json"]) { dir in
            try event.write(toFile: dir + "/event.json", atomically: true, encoding: .utf8)
        }
        #expect(r.status == 1)  // answered at once: no route took the event
        #expect(r.stdout.contains("content does not match /^(a+)+$/"), "\(r.stdout)\(r.stderr)")
    }

    @Test func daemonKeepsItsConfigWhenAReloadIsHostile() throws {
        let daemon = try Daemon(rules: "")
        let deep = "route r { to = nobody sender = " + String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000) + " }"
        #expect(try daemon.reload(rules: deep, expect: "new configuration refused"))
        #expect(try daemon.reload(rules: "sink s { type = pipe  command = [\"/bin/cat\"]  stop_grace = 99999999999999999999d }", expect: "new configuration refused"))
        #expect(try daemon.reload(rules: "route r { to = nobody content = /(a)\\1/ }", expect: "new configuration refused"))
        #expect(daemon.process.stderr.contains("backreferences are not supported"))
        // Still alive and still reloading.
        #expect(try daemon.reload(rules: ""))
        #expect(daemon.stop() == 0)
    }
}
