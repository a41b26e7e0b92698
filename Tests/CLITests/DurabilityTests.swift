import Foundation
import JSON
import Testing
import TestSupport

/// The spool under fire: kill -9 mid-delivery, restart, inspection, one daemon per spool.
@Suite(.serialized) struct DurabilityTests {
    let world = DemoWorld.shared

    /// Distinct replies in `c` since `since`, waiting until there are `count` distinct ones.
    func doneReplies(since: Int, count: Int, in c: String, only: String? = nil, timeout: Double = 20) throws -> Set<String> {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: Set<String> = []
        var cursor = since
        while seen.count < count && Date() < deadline {
            let batch = try world.clientEvents(since: cursor, name: "message:send", wait: 5)
            if let last = batch.last?["seq"]?.intValue { cursor = last }
            for e in batch where e["userId"]?.stringValue == DemoWorld.bridgeUser && e["data"]?["conversationId"]?.stringValue == c {
                if let content = e["data"]?["content"]?.stringValue, only == nil || only == content { seen.insert(content) }
            }
        }
        return seen
    }

    @Test func killNineMidDeliveryLosesNothing() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-kill9")
        let seen = dir + "/seen.log"
        let slow = try Scripts.write("while IFS= read -r l; do echo \"$l\" >> \(seen); sleep 0.2; echo \"done $l\"; done", named: "slow.sh", in: dir)
        let first = try Daemon(rules: """
            sink s { type = pipe  command = ["\(slow)"]  format = text  per = route }
            route r { conversation = ["\(c)"]  to = s  template = "{content}" }
            """)
        let since = try world.latestEventSeq()
        for i in 1...8 { try world.post("m\(i)", to: c) }
        _ = try doneReplies(since: since, count: 2, in: c)
        first.process.signal(SIGKILL)
        #expect(first.process.wait() == 128 + SIGKILL)
        // A second daemon on the same config and spool picks up what the first did not deliver.
        // (What the first child read counts as delivered, even if its answer died with the daemon.)
        let second = try BridgeProcess(["run", "--config", first.configPath, "--log-level", "debug"])
        #expect(second.waitForStderr("msg=connected"), "\(second.stderr)")
        // One child per route reads in spool order: once the sentinel is answered, everything
        // spooled before it has been read.
        try world.post("m9", to: c)
        #expect(try doneReplies(since: since, count: 1, in: c, only: "done m9").contains("done m9"))
        let read = Set(try String(contentsOfFile: seen, encoding: .utf8).split(separator: "\n").map(String.init))
        #expect(read.isSuperset(of: Set((1...9).map { "m\($0)" })), "\(read)\n\(second.stderr)")
        second.signal(SIGTERM)
        #expect(second.wait() == 0)
    }

    @Test func whatAChildNeverReadStaysSpooledAndIsListed() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-stuck")
        let deaf = try Scripts.write("exec sleep 300", named: "deaf.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink deaf { type = pipe  command = ["\(deaf)"]  format = text  stop_grace = 200ms }
            route r { conversation = ["\(c)"]  to = deaf }
            """)
        for i in 1...3 { try world.post("n\(i)", to: c) }
        #expect(daemon.process.waitForStderr("pipe child started"))
        // Delivery attempts happen within the loop turn after each event; the third one marks all three written.
        #expect(daemon.process.waitForStderr("route=r sink=deaf event=message:new", occurrences: 3))
        // A second daemon may not use the same spool while the first runs.
        let rival = try BridgeProcess.run(["run", "--config", daemon.configPath])
        #expect(rival.status == 78)
        #expect(rival.stderr.contains("in use by another mojo-bridge"))
        // Writing commands need the daemon stopped.
        let busy = try BridgeProcess.run(["spool", "--config", daemon.configPath, "drop", "--all"])
        #expect(busy.status == 1 && busy.stderr.contains("daemon is running"))
        #expect(daemon.stop() == 0)
        let list = try BridgeProcess.run(["spool", "--config", daemon.configPath, "list"])
        #expect(list.status == 0)
        #expect(list.stderr.contains("deaf: 3 pending, 0 dead"), "\(list.stderr)")  // the summary on stderr, rows on stdout
        #expect(list.stdout.split(separator: "\n").filter { $0.hasPrefix("deaf\tevt_") }.count == 3)
        let drop = try BridgeProcess.run(["spool", "--config", daemon.configPath, "drop", "--sink", "deaf", "--all", "--pending"])
        #expect(drop.stdout.contains("3 items dropped"))
        #expect(try BridgeProcess.run(["spool", "--config", daemon.configPath, "list"]).stderr.contains("deaf: 0 pending"))
    }

    /// Issue 12 item 1 and issue 16 item 4, end to end: a dead letter (three 500s), then events
    /// that fail once and are delivered, then more, SIGTERM, restart. Nothing delivered comes back,
    /// the dead letter stays dead, and `spool list` gives the attempts the log gave.
    @Test func aDeadLetterThenARestartRevivesNothingAndKeepsItsAttempts() throws {
        let receiver = try PythonPeer("webhook_receiver.py")
        let poisoned = try world.newConversation()
        let c = try world.newConversation()
        let fails: [JSONValue] = Array(repeating: ["status": 500], count: 3)
        try receiver.control.post("/control/script", ["responses": .array(fails)])
        let daemon = try Daemon(rules: """
            sink hooks { type = webhook  url = "http://127.0.0.1:\(receiver.port)/mojo"  allow_private = true  retry = [0s, 100ms, 100ms] }
            route r { conversation = ["\(poisoned)", "\(c)"]  to = hooks }
            """)
        try world.post("poison", to: poisoned)
        #expect(daemon.process.waitForStderr("dead-lettered"), "\(daemon.process.stderr)")
        #expect(daemon.process.stderr.contains("attempts=3"))
        // One conversation, one delivery at a time: every event fails once, then goes through.
        let once: [JSONValue] = Array((0..<20).map { _ -> [JSONValue] in [["status": 500], ["status": 204]] }.joined())
        try receiver.control.post("/control/script", ["responses": .array(once)])
        for i in 1...20 { try world.post("a\(i)", to: c) }
        #expect((try receiver.control.get("/control/deliveries?count=43&wait=20").arrayValue ?? []).count >= 43)
        for i in 1...20 { try world.post("b\(i)", to: c) }
        #expect((try receiver.control.get("/control/deliveries?count=63&wait=20").arrayValue ?? []).count >= 63)
        #expect(daemon.stop() == 0)
        let before = (try receiver.control.get("/control/deliveries?count=0&wait=0").arrayValue ?? []).count
        let list = try BridgeProcess.run(["spool", "--config", daemon.configPath, "list"])
        #expect(list.stderr.contains("hooks: 0 pending, 1 dead"), "\(list.stderr)")
        #expect(list.stdout.contains("attempts=3"), "\(list.stdout)")
        let again = try BridgeProcess(["run", "--config", daemon.configPath, "--log-level", "debug"])
        #expect(again.waitForStderr("msg=connected"))
        #expect(again.stderr.contains("msg=\"spool recovered\" sink=hooks pending=0 dead=1"), "\(again.stderr)")
        // A sentinel: once it is delivered, anything revived would have been delivered before it.
        try world.post("sentinel", to: c)
        let after = try receiver.control.get("/control/deliveries?count=\(before + 1)&wait=20").arrayValue ?? []
        #expect(after.count == before + 1, "\(after.count - before) deliveries after the restart")
        again.signal(SIGTERM)
        #expect(again.wait() == 0)
    }
}
