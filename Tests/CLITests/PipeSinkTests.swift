import Foundation
import JSON
import Testing
import TestSupport

/// The pipe sink: supervision, bad lines, backpressure, shutdown, and the `pipe` subcommand.
@Suite(.serialized) struct PipeSinkTests {
    let world = DemoWorld.shared

    func replies(since: Int, count: Int = 1, in c: String) throws -> [String] {
        try world.awaitClientEvents(since: since, name: "message:send", count: count) {
            $0["userId"]?.stringValue == DemoWorld.bridgeUser && $0["data"]?["conversationId"]?.stringValue == c
        }.compactMap { $0["data"]?["content"]?.stringValue }
    }

    @Test func aChildThatExitsIsRestartedAndLaterEventsStillArrive() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-crash")
        let once = try Scripts.write("IFS= read -r l; echo \"got $l\"; exit 7", named: "once.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["\(once)"]  format = text }
            route r { conversation = ["\(c)"]  to = s  template = "{content}" }
            """)
        var since = try world.latestEventSeq()
        try world.post("first", to: c)
        let r1 = try replies(since: since, in: c); #expect(r1 == ["got first"], "\(r1) \(daemon.process.stderr)")
        #expect(daemon.process.waitForStderr("pipe child exited; restarting"))
        since = try world.latestEventSeq()
        try world.post("second", to: c)
        #expect(try replies(since: since, in: c) == ["got second"])
        #expect(daemon.process.stderr.contains("exit status 7"))
        #expect(daemon.stop() == 0)
    }

    @Test func eventsArrivingWhileTheChildRestartsAreKept() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-crashloop")
        // Answers one line per life, after a pause: later events queue while it restarts.
        let once = try Scripts.write("IFS= read -r l; echo \"got $l\"; exit 0", named: "once.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["\(once)"]  format = text }
            route r { conversation = ["\(c)"]  to = s  template = "{content}" }
            """)
        let since = try world.latestEventSeq()
        for i in 1...4 { try world.post("m\(i)", to: c) }
        let got = try replies(since: since, count: 4, in: c)
        #expect(Set(got) == ["got m1", "got m2", "got m3", "got m4"])
        #expect(daemon.stop() == 0)
    }

    @Test func badLinesAreLoggedOneEachAndTheChildKeepsRunning() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-badlines")
        let bad = try Scripts.write("""
            big=$(head -c 70000 /dev/zero | tr '\\0' 'x')
            while IFS= read -r l; do
              echo '{not json'
              echo '{"type":"message:explode","data":{}}'
              echo '{"type":"message:send","data":{"conversationId":"\(c)"}}'
              printf '\\377\\376\\n'
              echo "$big"
              echo "still alive"
            done
            """, named: "bad.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["\(bad)"]  format = text }
            route r { conversation = ["\(c)"]  to = s }
            """, arguments: [])
        // A small line limit would need config; the default 1 MiB lets 70 kB through, so the
        // oversize case is covered by a line over the limit below.
        let since = try world.latestEventSeq()
        try world.post("go", to: c)
        #expect(try replies(since: since, count: 2, in: c).contains("still alive"))
        let log = daemon.process.stderr
        #expect(log.contains("not valid JSON"))
        #expect(log.contains("unknown command type `message:explode`"))
        #expect(log.contains("message:send: missing `content`"))
        #expect(log.contains("not valid UTF-8"))
        #expect(!log.contains("pipe child exited"))
        #expect(daemon.stop() == 0)
    }

    @Test func anOversizedLineIsDroppedWithoutKillingTheChild() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-oversize")
        let big = try Scripts.write("""
            while IFS= read -r l; do
              head -c 1100000 /dev/zero | tr '\\0' 'x'; echo
              echo "after the big one"
            done
            """, named: "big.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["\(big)"]  format = text }
            route r { conversation = ["\(c)"]  to = s }
            """)
        let since = try world.latestEventSeq()
        try world.post("go", to: c)
        #expect(try replies(since: since, in: c) == ["after the big one"])
        #expect(daemon.process.stderr.contains("line from child dropped: too long"))
        #expect(daemon.stop() == 0)
    }

    @Test func aSlowChildSlowsOnlyItsOwnRoute() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-slowroute")
        // The slow child answers nothing until the test opens its gate: no race with a timer.
        let gate = dir + "/gate"
        let slow = try Scripts.write("while IFS= read -r l; do while [ ! -e \"\(gate)\" ]; do sleep 0.05; done; echo \"slow $l\"; done",
                                     named: "slow.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink slow { type = pipe  command = ["\(slow)"]  format = text  per = route }
            sink fast { type = pipe  command = ["\(Scripts.autoresponder)"]  format = text  per = route }
            route r-slow { conversation = ["\(c)"]  to = slow  template = "{content}"  continue = true }
            route r-fast { conversation = ["\(c)"]  to = fast }
            """)
        let since = try world.latestEventSeq()
        for i in 1...3 { try world.post("m\(i)", to: c) }
        // All three fast answers come while the slow child is still stuck on its first line.
        let fast = try replies(since: since, count: 3, in: c)
        #expect(fast.count == 3 && fast.allSatisfy { $0.hasPrefix("Thanks") }, "\(fast)")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let all = try replies(since: since, count: 6, in: c)
        #expect(all.filter { $0.hasPrefix("slow") }.count == 3, "\(all)")
        #expect(daemon.stop() == 0)
    }

    @Test func anIdleConversationChildIsStoppedAndComesBackWithTheNextEvent() throws {
        let c = try world.newConversation()
        let d = try Daemon(rules: """
            sink s { type = pipe  command = ["\(Scripts.autoresponder)"]  format = text  idle_timeout = 300ms }
            route r { conversation = ["\(c)"]  to = s }
            """)
        var since = try world.latestEventSeq()
        try world.post("one", to: c)
        #expect(try replies(since: since, in: c).count == 1)
        #expect(d.process.waitForStderr("pipe child idle; stopping it"), "\(d.process.stderr)")
        #expect(d.process.waitForStderr("pipe child stopped"))
        since = try world.latestEventSeq()
        try world.post("two", to: c)
        #expect(try replies(since: since, in: c) == ["Thanks, Alice Example! You said: two"])
        #expect(d.process.stderr.components(separatedBy: "pipe child started").count - 1 == 2)
        #expect(d.stop() == 0)
    }

    @Test func aChildIgnoringSigtermIsKilledAfterTheGracePeriod() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-stubborn")
        let stubborn = try Scripts.write("trap '' TERM\nwhile IFS= read -r l; do echo \"ok $l\"; done\nwhile :; do sleep 1; done", named: "stubborn.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["\(stubborn)"]  format = text  stop_grace = 300ms }
            route r { conversation = ["\(c)"]  to = s  template = "{content}" }
            """)
        let since = try world.latestEventSeq()
        try world.post("hello", to: c)
        #expect(try replies(since: since, in: c) == ["ok hello"])
        #expect(daemon.stop() == 0)
        #expect(daemon.process.stderr.contains("ignored SIGTERM; killing it"))
        #expect(daemon.process.stderr.contains("killed by signal 9"))
    }

    @Test func theJSONFormatCarriesEveryEventKindDownThePipe() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-json")
        let out = dir + "/events.jsonl"
        let rec = try Scripts.write("while IFS= read -r l; do printf '%s\\n' \"$l\" >> \(out); case \"$l\" in *'\"messages:read\"'*) echo '{\"type\":\"message:send\",\"data\":{\"content\":\"seen\"}}';; esac; done", named: "rec.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["\(rec)"]  format = json }
            route r { conversation = ["\(c)"]  events = [message, typing, read]  to = s }
            """)
        let since = try world.latestEventSeq()
        try world.post("hi", to: c)
        try world.control.post("/control/typing", ["userId": "user_alice", "conversationId": .string(c), "isTyping": true])
        try world.control.post("/control/read", ["userId": "user_alice", "conversationId": .string(c)])
        // The reply to the read event is the proof every line before it was written.
        #expect(try replies(since: since, in: c) == ["seen"])
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        #expect(lines.map { $0["type"]?.stringValue } == ["message:new", "typing:update", "messages:read"])
        #expect(lines.allSatisfy { $0["tenant"]?.stringValue == DemoWorld.tenant && $0["id"]?.stringValue?.hasPrefix("evt_") == true })
        #expect(lines[1]["data"]?["isTyping"]?.boolValue == true)
        #expect(daemon.stop() == 0)
    }
}

/// `mojo-bridge pipe`: the ad-hoc bridge.
@Suite struct PipeCommandTests {
    let world = DemoWorld.shared

    @Test func plainTextAndJSONLinesGoToTheConversationAndTheChildsStatusIsTheExitCode() throws {
        let c = try world.newConversation()
        let token = try world.tokenFile()
        let r = try BridgeProcess.run(["pipe", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-file", token,
                                       "--conversation", c, "--", "sh", "-c",
                                       "echo 'plain words'; echo '{\"type\":\"message:send\",\"data\":{\"content\":\"as json\",\"type\":\"SYSTEM\"}}'; exit 5"])
        #expect(r.status == 5, "\(r.stderr)")
        let messages = try world.messages(in: c)
        #expect(messages.map { $0["content"]?.stringValue } == ["plain words", "as json"])
        #expect(messages.last?["type"]?.stringValue == "SYSTEM")
    }

    @Test func eventsReachTheChildAndItsAnswersComeBack() throws {
        let c = try world.newConversation()
        let token = try world.tokenFile()
        let p = try BridgeProcess(["pipe", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-file", token,
                                   "--conversation", c, "--format", "text", "--log-level", "info", "--",
                                   "sh", "-c", "IFS= read -r l; echo \"echo: $l\""])
        #expect(p.waitForStderr("msg=connected"), "\(p.stderr)")
        let since = try world.latestEventSeq()
        try world.post("ping", to: c)
        let sent = try world.awaitClientEvents(since: since, name: "message:send") {
            $0["userId"]?.stringValue == DemoWorld.bridgeUser && $0["data"]?["conversationId"]?.stringValue == c
        }
        #expect(sent.first?["data"]?["content"]?.stringValue == "echo: Alice Example: ping")
        #expect(p.wait() == 0)
    }

    @Test func theTokenNeverReachesTheChild() throws {
        let token = try world.control.token(for: DemoWorld.bridgeUser)
        let c = try world.newConversation()
        let r = try BridgeProcess.run(["pipe", "--url", world.url, "--tenant", DemoWorld.tenant, "--conversation", c, "--",
                                       "sh", "-c", "env | grep -c MOJO_TOKEN; exit 0"], environment: ["MOJO_TOKEN": token])
        #expect(r.status == 0)
        #expect(try world.messages(in: c).first?["content"]?.stringValue == "0")
        #expect(!r.stderr.contains(token))
    }

    @Test func noCommandIsAUsageError() throws {
        let r = try BridgeProcess.run(["pipe", "--url", world.url, "--tenant", DemoWorld.tenant])
        #expect(r.status == 64)
        #expect(r.stderr.contains("needs a command after `--`"))
    }
}
