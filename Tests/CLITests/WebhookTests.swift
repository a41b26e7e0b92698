import Foundation
import JSON
import Testing
import TestSupport

/// The webhook sink against a real receiver that verifies Standard Webhooks signatures.
@Suite(.serialized) struct WebhookTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let world = DemoWorld.shared

    func rules(_ receiver: PythonPeer, conversation c: String, timeout: String = "1s", allowPrivate: Bool = true) -> String {
        """
        sink hooks {
          type = webhook  url = "http://127.0.0.1:\(receiver.port)/mojo"  secret = env:TEST_WEBHOOK_SECRET
          allow_private = \(allowPrivate)  timeout = \(timeout)  retry = [0s, 300ms, 300ms, 300ms]
          headers = ["X-Team: bridge"]
        }
        route r { conversation = ["\(c)"]  to = hooks }
        """
    }

    func deliveries(_ r: PythonPeer, count: Int, wait: Int = 15) throws -> [JSONValue] {
        try r.control.get("/control/deliveries?count=\(count)&wait=\(wait)").arrayValue ?? []
    }

    static let env = ["TEST_WEBHOOK_SECRET": secret]

    func daemon(_ rules: String) throws -> Daemon {
        try Daemon(rules: rules, environment: Self.env)
    }

    @Test func eventsArePostedSignedInTheSharedVocabulary() throws {
        let receiver = try PythonPeer("webhook_receiver.py", arguments: ["--secret", Self.secret])
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c))
        try world.post("hello hook", to: c)
        let got = try deliveries(receiver, count: 1)
        #expect(got.count == 1)
        let first = try #require(got.first)
        #expect(first["valid"]?.boolValue == true)
        #expect(first["headers"]?["x-team"]?.stringValue == "bridge")
        #expect(first["headers"]?["content-type"]?.stringValue == "application/json")
        let body = try JSONValue(parsing: try #require(first["body"]?.stringValue))
        #expect(body["type"]?.stringValue == "message:new")
        #expect(body["id"]?.stringValue == first["id"]?.stringValue)
        #expect(body["data"]?["message"]?["content"]?.stringValue == "hello hook")
        #expect(d.stop() == 0)
    }

    @Test func transientFailuresAreRetriedUnderTheSameIdAndOrderIsKept() throws {
        let receiver = try PythonPeer("webhook_receiver.py", arguments: ["--secret", Self.secret])
        try receiver.control.post("/control/script", ["responses": [["status": 500], ["status": 429, "retryAfter": "1"], ["status": 503]]])
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c))
        try world.post("first", to: c)
        try world.post("second", to: c)
        let got = try deliveries(receiver, count: 5)
        let contents = got.map { (try? JSONValue(parsing: $0["body"]?.stringValue ?? ""))?["data"]?["message"]?["content"]?.stringValue ?? "" }
        // Three failures of "first", then "first", then "second": never "second" before "first" succeeded.
        #expect(contents == ["first", "first", "first", "first", "second"])
        #expect(Set(got.prefix(4).compactMap { $0["id"]?.stringValue }).count == 1)
        let retryAfter = try #require(got[2]["at"]?.doubleValue) - (try #require(got[1]["at"]?.doubleValue))
        #expect(retryAfter >= 0.95, "Retry-After: 1 was not honoured (\(retryAfter) s)")
        #expect(got.allSatisfy { $0["valid"]?.boolValue == true })
        #expect(d.stop() == 0)
    }

    @Test func a4xxIsDeadLetteredAtOnceAndCanBeRetriedLater() throws {
        let receiver = try PythonPeer("webhook_receiver.py")
        try receiver.control.post("/control/script", ["responses": [["status": 400]]])
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c))
        try world.post("rejected", to: c)
        #expect(d.process.waitForStderr("dead-lettered"), "\(d.process.stderr)")
        #expect(try deliveries(receiver, count: 1).count == 1)
        #expect(d.stop() == 0)
        let list = try BridgeProcess.run(["spool", "--config", d.configPath, "list", "--dead"], environment: Self.env)
        #expect(list.stderr.contains("hooks: 0 pending, 1 dead"), "\(list.stderr)")  // the summary on stderr
        #expect(list.stdout.contains("error=HTTP 400"))
        let retry = try BridgeProcess.run(["spool", "--config", d.configPath, "retry", "--all"], environment: Self.env)
        #expect(retry.stdout.hasPrefix("1 dead letter"))
        let again = try BridgeProcess(["run", "--config", d.configPath], environment: Self.env)
        let got = try deliveries(receiver, count: 2)
        #expect(got.count == 2 && got[0]["id"]?.stringValue == got[1]["id"]?.stringValue)
        again.signal(SIGTERM)
        #expect(again.wait() == 0)
    }

    @Test func goneDisablesTheSink() throws {
        let receiver = try PythonPeer("webhook_receiver.py")
        try receiver.control.post("/control/script", ["responses": [["status": 410]]])
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c))
        try world.post("one", to: c)
        #expect(d.process.waitForStderr("sink disabled"), "\(d.process.stderr)")
        try world.post("two", to: c)
        #expect(d.stop() == 0)
        #expect(try deliveries(receiver, count: 1, wait: 0).count == 1)
        #expect(try BridgeProcess.run(["spool", "--config", d.configPath, "list"], environment: Self.env).stderr.contains("hooks: 2 pending"))
    }

    @Test func aSynchronousReplyGoesBackToTheConversation() throws {
        let receiver = try PythonPeer("webhook_receiver.py")
        try receiver.control.post("/control/script", ["responses": [["status": 200, "body": ["reply": "pong from the hook"]]]])
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c))
        let since = try world.latestEventSeq()
        try world.post("ping", to: c)
        let sent = try world.awaitClientEvents(since: since, name: "message:send") { $0["data"]?["conversationId"]?.stringValue == c }
        #expect(sent.first?["data"]?["content"]?.stringValue == "pong from the hook")
        #expect(sent.first?["userId"]?.stringValue == DemoWorld.bridgeUser)
        #expect(d.stop() == 0)
    }

    @Test func aPrivateDestinationIsRefusedUnlessAllowed() throws {
        let receiver = try PythonPeer("webhook_receiver.py")
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c, allowPrivate: false))
        try world.post("to loopback", to: c)
        #expect(d.process.waitForStderr("connection to 127.0.0.1 refused: not a public address (SSRF guard)"), "\(d.process.stderr)")
        #expect(try deliveries(receiver, count: 1, wait: 0).isEmpty)
        #expect(d.stop() == 0)
    }

    @Test func aHangingReceiverTimesOutAndIsRetried() throws {
        let receiver = try PythonPeer("webhook_receiver.py")
        try receiver.control.post("/control/script", ["responses": [["hang": true]]])
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c))
        try world.post("slow", to: c)
        let got = try deliveries(receiver, count: 2)
        #expect(got.count == 2)
        #expect(d.process.stderr.contains("will retry"))
        #expect(d.stop() == 0)
    }

    @Test func killNineDuringDeliveryRedeliversUnderTheSameId() throws {
        let receiver = try PythonPeer("webhook_receiver.py")
        try receiver.control.post("/control/script", ["responses": [["hang": true]]])
        let c = try world.newConversation()
        let d = try daemon(rules(receiver, conversation: c, timeout: "30s"))
        try world.post("in flight", to: c)
        _ = try deliveries(receiver, count: 1)
        d.process.signal(SIGKILL)
        _ = d.process.wait()
        let again = try BridgeProcess(["run", "--config", d.configPath], environment: Self.env)
        let got = try deliveries(receiver, count: 2)
        #expect(got.count == 2)
        #expect(got[0]["id"]?.stringValue == got[1]["id"]?.stringValue)
        again.signal(SIGTERM)
        #expect(again.wait() == 0)
    }

    @Test func aReceiverRefusingConnectionsIsRetriedThenDeadLettered() throws {
        // A port that refuses connections for the whole test (bound, never listening).
        let refusing = try RefusingPort()
        let port = refusing.port
        let c = try world.newConversation()
        let d = try daemon("""
            sink hooks { type = webhook  url = "http://127.0.0.1:\(port)/"  allow_private = true  retry = [0s, 100ms, 100ms] }
            route r { conversation = ["\(c)"]  to = hooks }
            """)
        try world.post("nobody home", to: c)
        #expect(d.process.waitForStderr("will retry", occurrences: 2), "\(d.process.stderr)")
        #expect(d.process.waitForStderr("dead-lettered"), "\(d.process.stderr)")
        #expect(d.process.stderr.contains("Couldn't connect to server") || d.process.stderr.contains("Connection refused"))
        #expect(d.stop() == 0)
        withExtendedLifetime(refusing) {}
    }
}
