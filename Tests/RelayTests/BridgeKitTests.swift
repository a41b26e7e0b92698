import Diagnostics
import JSON
import Mojo
import Rules
import TestKit
import Testing
import Transport
@testable import Relay

/// `Bridge` with its sessions on a scripted MOJO server and recording sinks, on virtual time:
/// events in, the right sinks get the right deliveries; replies out, to the right tenant and
/// conversation, or refused; hops bound reply chains. Milliseconds, no sockets, no sleeps.
@Suite struct BridgeKitTests {
    static let config = """
    server { url = "ws://127.0.0.1:3020" }
    tenant org_a { token = env:MOJO_TOKEN }
    tenant org_b { token = env:MOJO_TOKEN }
    sink bot { type = pipe  command = ["/bin/cat"]  per = route }
    sink audit { type = pipe  command = ["/bin/cat"] }
    sink both { type = pipe  command = ["/bin/cat"] }
    sink mirror { type = pipe  command = ["/bin/cat"] }
    sink memo { type = pipe  command = ["/bin/cat"] }
    route memos { tenant = org_b  to = memo  template = "{content}"  continue = true }
    route everywhere { to = both  continue = true }
    route mine { include_self = true  to = mirror  continue = true }
    route help { tenant = org_a  content = /^\\/help/  to = bot }
    route b_all { tenant = org_b  to = audit }
    """

    let clock = VirtualClock()
    let mojo: FakeMojo
    let loop: EventLoop
    let bridge: Bridge
    let sinks: SinkTable

    final class SinkTable {
        var byName: [String: RecordingSink] = [:]
        subscript(_ name: String) -> RecordingSink { byName[name]! }
    }

    /// A sink kind the configuration language does not know, plugged in with its settings
    /// alone: it asks for the JSON envelope and stamps each delivery with an attribute.
    struct MemoSettings: SinkKindSettings, Equatable {
        static let typeName = "memo"
        var templateEscaping: TemplateEscaping { .line }
        var receivesEnvelope: Bool { true }
        var hasDeliveryAttributes: Bool { true }
        func attributes(for event: RoutableEvent) -> [(String, String)] {
            [("conversation", event.conversationId ?? ""), ("length", String(event.content?.count ?? 0))]
        }
    }

    init() throws {
        mojo = FakeMojo(clock: clock)
        loop = try EventLoop()
        var config = try ConfigLoader.parse(text: Self.config, file: "bridge.conf",
                                            env: .inMemory(files: [:], variables: ["MOJO_TOKEN": "x"])).get()
        if let memo = config.sinks.firstIndex(where: { $0.name == "memo" }) { config.sinks[memo].kind = .init(MemoSettings()) }
        let table = SinkTable()
        sinks = table
        bridge = Bridge(config: config, loop: loop, reaper: nil, curl: nil, logger: Logger.quiet, durable: false,
                        scheduler: clock, sessionMaker: mojo.sessionMaker(loop: loop)) { settings, _ throws(SinkSetupError) in
            let sink = RecordingSink(name: settings.name)
            sink.outcome = .delivered
            table.byName[settings.name] = sink
            return sink
        }
        try bridge.start()
        clock.runDue()
    }

    func connection(_ tenant: String) -> FakeEngineTransport { mojo.connections(tenant: tenant).last! }

    func message(_ tenant: String, conversation: String, content: String, sender: String = "user_1") {
        connection(tenant).sendEvent("message:new", .object(JSONObject([
            ("id", .string("m\(clock.elapsedMs)\(content.count)")), ("conversationId", .string(conversation)),
            ("senderId", .string(sender)), ("content", .string(content)), ("type", .string("TEXT")),
        ])))
        clock.runDue()
    }

    func sends(_ tenant: String) -> [(conversation: String?, content: String?)] {
        connection(tenant).emitted.filter { $0.name == "message:send" }
            .map { ($0.data["conversationId"]?.stringValue, $0.data["content"]?.stringValue) }
    }

    // MARK: Routing

    @Test func eachEventReachesExactlyTheSinksWhoseRoutesMatch() {
        #expect(bridge.allConnected)
        message("org_a", conversation: "c1", content: "/help me")
        message("org_a", conversation: "c1", content: "just chatting")
        message("org_b", conversation: "c9", content: "/help too")
        #expect(sinks["bot"].attempts.map(\.conversationId) == ["c1"])
        #expect(sinks["audit"].attempts.map(\.tenant) == ["org_b"])
        #expect(sinks["both"].attempts.count == 3)
        // The envelope carries the tenant, the event and its hop count.
        let envelope = try? JSONValue(parsing: sinks["bot"].attempts[0].payload)
        #expect(envelope?["tenant"]?.stringValue == "org_a" && envelope?["type"]?.stringValue == "message:new")
        #expect(envelope?["hops"] == nil && envelope?["data"]?["content"]?.stringValue == "/help me")
    }

    @Test func theBridgesOwnMessagesAreNotRoutedBack() {
        message("org_a", conversation: "c1", content: "/help from myself", sender: "bridge_bot")
        #expect(sinks["bot"].attempts.isEmpty && sinks["both"].attempts.isEmpty)
        // Only a route with `include_self = true` takes them.
        #expect(sinks["mirror"].attempts.count == 1)
    }

    @Test func aKindsDeliveryAttributesTravelWithEachDelivery() {
        message("org_b", conversation: "c9", content: "four")
        let d = sinks["memo"].attempts
        #expect(d.count == 1)
        #expect(d.first?.attributes.map { "\($0.0)=\($0.1)" } == ["conversation=c9", "length=4"])
        // The kind asked for the envelope: the route's template is not applied to it.
        #expect((try? JSONValue(parsing: d.first?.payload ?? []))?["type"]?.stringValue == "message:new")
        // Kinds without attributes get none.
        #expect(sinks["audit"].attempts.first?.attributes.isEmpty == true)
    }

    // MARK: Replies

    @Test func aReplyGoesToTheTenantAndConversationItAnswers() {
        message("org_b", conversation: "c9", content: "hello")
        let event = sinks["both"].attempts[0]
        let reply = Envelope.Inbound(id: nil, tenant: nil, command: .send(conversationId: "c9", content: "hi"))
        bridge.sink("both", sent: reply, context: ReplyContext(tenant: "org_b", conversationId: "c9", hops: 0, answering: event.eventId))
        #expect(sends("org_b").map(\.content) == ["hi"])
        #expect(sends("org_a").isEmpty)
    }

    @Test func inReplyToTakesTheTenantAndConversationOfTheNamedEvent() {
        message("org_a", conversation: "c1", content: "first")
        message("org_b", conversation: "c9", content: "second")
        let first = sinks["both"].attempts[0]
        // As from the admin API: no context but the event named.
        let json = #"{"type":"message:send","inReplyTo":"\#(first.eventId)","data":{"content":"answer"}}"#
        let inbound = try! Envelope.parseCommand(Array(json.utf8), plainText: false) { r in
            r.flatMap { self.bridge.recentEvent($0)?.conversationId }
        }
        let result = bridge.submit("both", inbound, context: .none)
        #expect((try? result.get()) != nil)
        #expect(sends("org_a").map(\.conversation) == ["c1"])
        #expect(sends("org_b").isEmpty)
    }

    @Test func aCommandWithoutTenantFromASinkSpanningTenantsIsRefused() {
        let inbound = Envelope.Inbound(id: nil, tenant: nil, command: .send(conversationId: "c1", content: "where?"))
        let result = bridge.submit("both", inbound, context: .none)
        guard case .failure(.ambiguous(let why)) = result else {
            Issue.record("expected a refusal, got \(result)")
            return
        }
        #expect(why.contains("span 2 tenants"))
        #expect(sends("org_a").isEmpty && sends("org_b").isEmpty)
        // Naming the tenant makes it go.
        var named = inbound
        named.tenant = "org_a"
        #expect((try? bridge.submit("both", named, context: .none).get()) != nil)
        #expect(sends("org_a").map(\.content) == ["where?"])
    }

    @Test func anAmbiguousPerRouteLineIsRefusedNotGuessed() {
        let inbound = Envelope.Inbound(id: nil, tenant: nil, command: .send(conversationId: "c1", content: "guess"),
                                       implicitConversation: true)
        let context = ReplyContext(tenant: "org_a", conversationId: "c1", hops: 0, certain: false,
                                   ambiguity: "the child read events of several conversations")
        guard case .failure(.ambiguous) = bridge.submit("both", inbound, context: context) else {
            Issue.record("an ambiguous line was sent")
            return
        }
        #expect(sends("org_a").isEmpty)
    }

    @Test func aSinkMayOnlySendWhereItsRoutesReach() {
        // `audit` is fed by org_b's route only.
        let inbound = Envelope.Inbound(id: nil, tenant: "org_a", command: .send(conversationId: "c1", content: "sneaky"))
        guard case .failure(.notAllowed) = bridge.submit("audit", inbound, context: .none) else {
            Issue.record("a sink sent where no route lets it")
            return
        }
        #expect(sends("org_a").isEmpty)
    }

    @Test func replyChainsStopAtTheHopLimit() {
        bridge.maxHops = 2
        // A reply answering an event of hop 0 comes back (the server's echo) as hop 1: relayed
        // to the sinks that take the bridge's own messages, but not to the sink that sent it.
        bridge.sink("bot", sent: Envelope.Inbound(id: nil, tenant: "org_a", command: .send(conversationId: "c1", content: "one")),
                    context: ReplyContext(tenant: "org_a", conversationId: "c1", hops: 0))
        message("org_a", conversation: "c1", content: "one", sender: "bridge_bot")
        #expect(sinks["mirror"].attempts.map(\.hops) == [1])
        // The envelope carries the count, for a consumer to send back.
        #expect((try? JSONValue(parsing: sinks["mirror"].attempts[0].payload))?["hops"]?.intValue == 1)
        // A reply answering that hop-1 event comes back as hop 2: the loop guard stops it.
        bridge.sink("mirror", sent: Envelope.Inbound(id: nil, tenant: "org_a", command: .send(conversationId: "c1", content: "two")),
                    context: ReplyContext(tenant: "org_a", conversationId: "c1", hops: 1))
        message("org_a", conversation: "c1", content: "two", sender: "bridge_bot")
        #expect(sinks["mirror"].attempts.count == 1 && sinks["bot"].attempts.isEmpty)
        #expect(sends("org_a").map(\.content) == ["one", "two"])
    }

    @Test func hopsComeFromTheAnsweredEventAndCannotBeLowered() {
        bridge.recent.record(AnsweredEvent(id: "evt_x", tenant: "org_a", conversationId: "c1", hops: 2))
        let inbound = Envelope.Inbound(id: nil, tenant: nil, command: .send(conversationId: "c1", content: "late"),
                                       inReplyTo: "evt_x", hops: 0)
        let context = try? bridge.resolve("both", inbound, context: .none).get()
        #expect(context?.hops == 2 && context?.tenant == "org_a" && context?.certain == true)
        // A sender declaring more hops than the event had keeps the higher count.
        let claimed = Envelope.Inbound(id: nil, tenant: nil, command: .send(conversationId: "c1", content: "x"),
                                       inReplyTo: "evt_x", hops: 5)
        #expect((try? bridge.resolve("both", claimed, context: .none).get())?.hops == 5)
    }

    // MARK: Reconnects

    @Test func anUnansweredReplyIsSentAgainOnceAfterAReconnect() {
        let reply = Envelope.Inbound(id: nil, tenant: "org_a", command: .send(conversationId: "c1", content: "important"))
        bridge.sink("both", sent: reply, context: .none)
        #expect(sends("org_a").map(\.content) == ["important"])
        connection("org_a").kick()
        clock.advance(until: { self.bridge.allConnected })
        #expect(sends("org_a").map(\.content) == ["important"], "resent on the new connection")
        #expect(mojo.connections(tenant: "org_a").count == 2)
        // Answered now: a further reconnect sends nothing again.
        connection("org_a").sendEvent("message:sent", .object(JSONObject([("conversationId", .string("c1")), ("messageId", .string("m1"))])))
        clock.runDue()
        connection("org_a").kick()
        clock.advance(until: { self.bridge.allConnected })
        #expect(sends("org_a").isEmpty)
        #expect(mojo.connections(tenant: "org_a").count == 3)
    }
}
