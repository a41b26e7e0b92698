import Foundation
import JSON
import Testing
import TestSupport

/// `mojo-bridge run` against the dev server: routing, echo suppression, the loop guard,
/// mirroring, reload, tenant isolation, shutdown.
@Suite(.serialized) struct RunRelayTests {
    let world = DemoWorld.shared

    func sends(since: Int, count: Int, in conversation: String? = nil) throws -> [JSONValue] {
        try world.awaitClientEvents(since: since, name: "message:send", count: count) {
            $0["userId"]?.stringValue == DemoWorld.bridgeUser && (conversation == nil || $0["data"]?["conversationId"]?.stringValue == conversation)
        }
    }

    @Test func routesOnlyTheConversationsARouteNames() throws {
        let a = try world.newConversation(), b = try world.newConversation()
        let daemon = try Daemon(rules: """
            sink bot { type = pipe  command = ["\(Scripts.autoresponder)"]  per = route  format = text }
            route r { conversation = ["\(a)"]  to = bot  template = "{sender.name}: {content}" }
            """)
        let since = try world.latestEventSeq()
        try world.post("to b", to: b)
        try world.post("to a", to: a)
        let replies = try sends(since: since, count: 1, in: a)
        #expect(replies.count == 1)
        #expect(replies.first?["data"]?["conversationId"]?.stringValue == a)
        #expect(replies.first?["data"]?["content"]?.stringValue == "Thanks, Alice Example! You said: to a")
        // b's message went to the same single child before a's: had it been routed, its reply would be first.
        #expect(try world.messages(in: b).count == 1)
        #expect(daemon.stop() == 0)
    }

    @Test func theDaemonsOwnMessageNeverGoesBackToItsSink() throws {
        let c = try world.newConversation()
        let daemon = try Daemon(rules: """
            sink bot { type = pipe  command = ["\(Scripts.autoresponder)"]  format = text }
            route r { conversation = ["\(c)"]  include_self = true  to = bot  template = "{sender.name}: {content}" }
            """)
        let since = try world.latestEventSeq()
        try world.post("one", to: c)
        _ = try sends(since: since, count: 1, in: c)
        let mid = try world.latestEventSeq()
        try world.post("two", to: c)
        _ = try sends(since: mid, count: 1, in: c)
        // With the echo delivered back, the bot would have answered its own answers too.
        let contents = try world.messages(in: c).map { $0["content"]?.stringValue ?? "" }
        #expect(contents == ["one", "Thanks, Alice Example! You said: one", "two", "Thanks, Alice Example! You said: two"])
        #expect(daemon.stop() == 0)
    }

    @Test func twoBotsCannotPingPongForever() throws {
        let c = try world.newConversation()
        let daemon = try Daemon(rules: """
            sink a { type = pipe  command = ["\(Scripts.autoresponder)"]  format = text  env = ["AUTORESPONDER_GREETING=A"] }
            sink b { type = pipe  command = ["\(Scripts.autoresponder)"]  format = text  env = ["AUTORESPONDER_GREETING=B"] }
            route to-a { conversation = ["\(c)"]  include_self = true  to = a  continue = true }
            route to-b { conversation = ["\(c)"]  include_self = true  to = b }
            """)
        try world.post("hi", to: c)
        // The human message (0 hops) -> a and b answer (1) -> each answer reaches the other bot (2)
        // -> those answers are stopped by the loop guard, twice.
        #expect(daemon.process.waitForStderr("reply chain too long", occurrences: 2, timeout: 15), "\(daemon.process.stderr)")
        let messages = try world.messages(in: c)
        #expect(messages.count == 5)
        #expect(daemon.stop() == 0)
        #expect(try world.messages(in: c).count == 5)
    }

    @Test func typingReadAndPresenceAreMirroredBothWays() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-mirror")
        let script = try Scripts.write("""
            while IFS= read -r l; do
              case "$l" in
                *'"type":"typing:update"'*)
                  for i in 1 2 3 4 5; do printf '{"type":"typing:start","data":{"conversationId":"%s"}}\\n' "\(c)"; done ;;
                *'"type":"messages:read"'*) printf '{"type":"messages:read","data":{"conversationId":"%s"}}\\n' "\(c)" ;;
                *'"type":"presence:list"'*) printf '{"type":"typing:stop","data":{"conversationId":"%s"}}\\n' "\(c)" ;;
              esac
            done
            """, named: "mirror.sh", in: dir)
        let since = try world.latestEventSeq()
        let daemon = try Daemon(rules: """
            sink m { type = pipe  command = ["\(script)"]  per = route  format = json }
            route r { events = [typing, read, presence]  to = m }
            """)
        #expect(try world.awaitClientEvents(since: since, name: "presence:get") { $0["userId"]?.stringValue == DemoWorld.bridgeUser }.count == 1)
        let mark = try world.latestEventSeq()
        try world.control.post("/control/typing", ["userId": "user_alice", "conversationId": .string(c), "isTyping": true])
        try world.control.post("/control/read", ["userId": "user_alice", "conversationId": .string(c)])
        let reads = try world.awaitClientEvents(since: mark, name: "messages:read") { $0["userId"]?.stringValue == DemoWorld.bridgeUser }
        #expect(reads.first?["data"]?["conversationId"]?.stringValue == c)
        // Five typing:start lines within the limiter's interval reach the server as one.
        let typing = try world.clientEvents(since: mark, name: "typing:start", wait: 0).filter { $0["userId"]?.stringValue == DemoWorld.bridgeUser }
        #expect(typing.count == 1)
        #expect(daemon.stop() == 0)
    }

    @Test func sighupReloadsRoutesWithoutDroppingTheSession() throws {
        let c = try world.newConversation()
        func rules(_ greeting: String) -> String {
            """
            sink bot { type = pipe  command = ["\(Scripts.autoresponder)"]  format = text  env = ["AUTORESPONDER_GREETING=\(greeting)"] }
            route r { conversation = ["\(c)"]  to = bot }
            """
        }
        let daemon = try Daemon(rules: rules("Before"))
        // The bridge user's sockets in the conversation's room: this daemon's, and those of tests
        // running beside this one as the bridge user (the server joins them to its conversations).
        func bridgeSIDs() throws -> Set<String> {
            Set(try world.control.get("/control/sockets?userId=user_bridge").arrayValue?.filter { socket in
                socket["rooms"]?.arrayValue?.contains { $0.stringValue?.contains(c) == true } == true
            }.compactMap { $0["sid"]?.stringValue } ?? [])
        }
        var since = try world.latestEventSeq()
        try world.post("x", to: c)
        #expect(try sends(since: since, count: 1, in: c).first?["data"]?["content"]?.stringValue?.hasPrefix("Before,") == true)
        let before = try bridgeSIDs()
        #expect(!before.isEmpty)

        #expect(try daemon.reload(rules: rules("After")))
        since = try world.latestEventSeq()
        try world.post("y", to: c)
        #expect(try sends(since: since, count: 1, in: c).first?["data"]?["content"]?.stringValue?.hasPrefix("After,") == true)

        #expect(try daemon.reload(rules: "route broken { to = nowhere }", expect: "new configuration refused"))
        #expect(daemon.process.stderr.contains("unknown sink `nowhere`"))
        since = try world.latestEventSeq()
        try world.post("z", to: c)
        #expect(try sends(since: since, count: 1, in: c).first?["data"]?["content"]?.stringValue?.hasPrefix("After,") == true)
        // The same Socket.IO session all along: one `connected` line (a reconnect logs another),
        // and the daemon's socket still in the room.
        let connects = daemon.process.stderr.split(separator: "\n").filter { $0.contains("msg=connected") || $0.contains("msg=\"connected") }
        #expect(connects.count == 1, "\(daemon.process.stderr)")
        #expect(try !before.isDisjoint(with: bridgeSIDs()))
        #expect(daemon.stop() == 0)
    }

    @Test func aTenantRefusedByTheServerDoesNotStopAnother() throws {
        let c = try world.newConversation()
        let token = try world.tokenFile()
        let daemon = try Daemon(rules: """
            sink bot { type = pipe  command = ["\(Scripts.autoresponder)"]  format = text }
            route r { tenant = org_demo  conversation = ["\(c)"]  to = bot }
            """, extraTenants: "tenant org_elsewhere { token = file:\(token) }")
        #expect(daemon.process.waitForStderr("tenant not allowed: org_elsewhere"), "\(daemon.process.stderr)")
        let since = try world.latestEventSeq()
        try world.post("still here?", to: c)
        #expect(try sends(since: since, count: 1, in: c).count == 1)
        #expect(daemon.stop() == 0)
    }

    @Test func sigtermWhileEventsAreInFlightExitsZeroAndStopsChildren() throws {
        let c = try world.newConversation()
        let dir = try RepoPaths.temporaryDirectory("mojo-slow")
        let slow = try Scripts.write("while IFS= read -r l; do sleep 0.2; echo \"slow: $l\"; done", named: "slow.sh", in: dir)
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["\(slow)"]  format = text }
            route r { conversation = ["\(c)"]  to = s }
            """)
        for i in 0..<5 { try world.post("m\(i)", to: c) }
        #expect(daemon.process.waitForStderr("pipe child started"))
        let started = Date()
        #expect(daemon.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 12)
        #expect(daemon.process.stderr.contains("pipe child stopped"))
        #expect(daemon.process.stderr.contains("msg=stopped"))
    }
}
