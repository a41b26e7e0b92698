import Foundation
import JSON
import Testing
import TestSupport

/// Every script in Bridges/ working through the daemon, as its rule snippet wires it.
@Suite(.serialized) struct BridgesTests {
    let world = DemoWorld.shared
    func bridge(_ name: String) -> String { RepoPaths.root + "/Bridges/" + name }

    func replies(since: Int, in c: String, count: Int = 1) throws -> [String] {
        try world.awaitClientEvents(since: since, name: "message:send", count: count) {
            $0["userId"]?.stringValue == DemoWorld.bridgeUser && $0["data"]?["conversationId"]?.stringValue == c
        }.compactMap { $0["data"]?["content"]?.stringValue }
    }

    @Test func autoresponderAnswersEveryMessage() throws {
        let c = try world.newConversation()
        let d = try Daemon(rules: """
            sink a { type = pipe  command = ["\(bridge("autoresponder.sh"))"]  format = text }
            route r { conversation = ["\(c)"]  to = a  template = "{sender.name}: {content}" }
            """)
        let since = try world.latestEventSeq()
        try world.post("Hi: there", to: c)
        #expect(try replies(since: since, in: c) == ["Thanks, Alice Example! You said: Hi: there"])
        #expect(d.stop() == 0)
    }

    @Test func commandBotAnswersCommandsOnly() throws {
        let c = try world.newConversation()
        let d = try Daemon(rules: """
            sink bot { type = pipe  command = ["\(bridge("command-bot.sh"))"]  format = text }
            route r { conversation = ["\(c)"]  content = /^\\//  to = bot  template = "{content}" }
            """)
        let since = try world.latestEventSeq()
        try world.post("just chatting", to: c)
        try world.post("/help", to: c)
        try world.post("/echo $(rm -rf /) `id`", to: c)
        try world.post("/whoami", to: c)
        let got = try replies(since: since, in: c, count: 3)
        #expect(got == ["Commands: /help, /time, /echo TEXT, /whoami", "$(rm -rf /) `id`",
                        "I am the command bot of sink bot in conversation \(c)"])
        #expect(d.stop() == 0)
    }

    @Test func conversationLoggerWritesOneFilePerConversation() throws {
        let c1 = try world.newConversation(), c2 = try world.newConversation()
        let logDir = try RepoPaths.temporaryDirectory("mojo-logs")
        let d = try Daemon(rules: """
            sink logger { type = pipe  command = ["\(bridge("conversation-logger.sh"))"]  format = json  env = ["LOG_DIR=\(logDir)"] }
            sink ack { type = pipe  command = ["\(bridge("autoresponder.sh"))"]  format = text }
            route log { conversation = ["\(c1)", "\(c2)"]  events = [message, typing]  to = logger  direction = to_sink  continue = true }
            route done { conversation = ["\(c2)"]  content = /^last$/  to = ack }
            """)
        let since = try world.latestEventSeq()
        try world.post("one", to: c1)
        try world.control.post("/control/typing", ["userId": "user_alice", "conversationId": .string(c1), "isTyping": true])
        try world.post("last", to: c2)
        _ = try replies(since: since, in: c2)
        #expect(d.stop() == 0)   // the logger gets EOF and has flushed when the daemon exits
        let f1 = try String(contentsOfFile: "\(logDir)/org_demo/\(c1).jsonl", encoding: .utf8).split(separator: "\n")
        let f2 = try String(contentsOfFile: "\(logDir)/org_demo/\(c2).jsonl", encoding: .utf8).split(separator: "\n")
        #expect(f1.map { (try? JSONValue(parsing: String($0)))?["type"]?.stringValue } == ["message:new", "typing:update"])
        #expect(f2.count == 1 && f2[0].contains("\"last\""))
    }

    @Test func jqFilterForwardsMatchingMessagesToTheAlertsConversation() throws {
        let c = try world.newConversation(), alerts = try world.newConversation()
        let d = try Daemon(rules: """
            sink alerts { type = pipe  command = ["\(bridge("jq-filter.sh"))"]  per = route  format = json
                          env = ["ALERTS_CONVERSATION=\(alerts)", "PATTERN=urgent|down"] }
            route alerts { conversation = ["\(c)", "\(alerts)"]  to = alerts  direction = both }
            """)
        let since = try world.latestEventSeq()
        try world.post("all fine here", to: c)
        try world.post("The API is DOWN again", to: c)
        #expect(try replies(since: since, in: alerts) == ["[alert] Alice Example: The API is DOWN again"])
        #expect(try world.messages(in: alerts).count == 1)
        #expect(d.stop() == 0)
    }
}
