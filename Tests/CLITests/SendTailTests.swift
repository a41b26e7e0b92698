import JSON
import Testing
import TestSupport

/// `tail` and `send` end to end against the MOJO dev server, over each transport.
@Suite struct SendTailTests {
    let world = DemoWorld.shared

    func conn(_ transport: String = "websocket", token: String) -> [String] {
        ["--url", world.url, "--tenant", DemoWorld.tenant, "--token-file", token, "--transport", transport]
    }

    @Test(arguments: ["websocket", "polling", "upgrade", "auto"])
    func sendIsAcknowledgedAndPersistedAsTheBridgeUser(transport: String) throws {
        let conversation = try world.newConversation()
        let token = try world.tokenFile()
        let r = try BridgeProcess.run(["send"] + conn(transport, token: token) + ["--conversation", conversation, "héllo \"there\"", "second"])
        #expect(r.status == 0, "\(r.stderr)")
        let messages = try world.messages(in: conversation)
        #expect(messages.map { $0["content"]?.stringValue } == ["héllo \"there\"", "second"])
        #expect(messages.allSatisfy { $0["senderId"]?.stringValue == DemoWorld.bridgeUser })
    }

    @Test func sendReadsStdinLines() throws {
        let conversation = try world.newConversation()
        let r = try BridgeProcess.run(["send"] + conn(token: try world.tokenFile()) + ["--conversation", conversation], stdin: "one\r\n\ntwo\nthree")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try world.messages(in: conversation).map { $0["content"]?.stringValue } == ["one", "two", "three"])
    }

    @Test func sendRefusedByTheServerExits1WithItsError() throws {
        let conversation = try world.newConversation(members: [DemoWorld.alice])   // the bridge user is not a member
        let r = try BridgeProcess.run(["send"] + conn(token: try world.tokenFile()) + ["--conversation", conversation, "x"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("refused by server"))
    }

    @Test(arguments: ["websocket", "polling"])
    func tailPrintsEventsInTheSharedVocabulary(transport: String) throws {
        let conversation = try world.newConversation()
        let other = try world.newConversation()
        let tail = try BridgeProcess(["tail"] + conn(transport, token: try world.tokenFile()) + ["--conversation", conversation, "--log-level", "info"])
        #expect(tail.waitForStderr("msg=connected"), "\(tail.stderr)")
        try world.post("elsewhere", to: other)
        try world.post("ping", to: conversation)
        let line = tail.waitForLine { $0.contains("ping") }
        tail.signal(2)
        #expect(tail.wait() == 0)
        let json = try JSONValue(parsing: try #require(line))
        #expect(json["type"]?.stringValue == "message:new")
        #expect(json["tenant"]?.stringValue == DemoWorld.tenant)
        #expect(json["id"]?.stringValue?.hasPrefix("evt_") == true)
        #expect(json["timestamp"]?.stringValue?.hasSuffix("Z") == true)
        #expect(json["data"]?["message"]?["senderId"]?.stringValue == DemoWorld.alice)
        #expect(json["data"]?["conversationId"]?.stringValue == conversation)
        // Only this conversation's events passed the filter (the other message was posted first).
        #expect(!tail.stdout.contains("elsewhere"))
    }
}
