import JSON
import Testing
@testable import Rules

@Suite struct MatchingTests {
    func route(_ body: String) throws -> Route {
        let config = try Fixtures.load(Fixtures.header + "tenant org_other { token = env:MOJO_TOKEN }\nroute r { to = bot \(body) }").get()
        return config.routes[0]
    }

    @Test func tenant() throws {
        let r = try route("tenant = \"org_d*\"")
        #expect(r.failure(for: Fixtures.message()) == nil)
        #expect(r.failure(for: Fixtures.message(tenant: "org_other")) == "tenant org_other not in [org_d*]")
    }

    @Test func conversation() throws {
        let r = try route("conversation = [\"11111111-*\", \"33333333-3333-4333-8333-333333333333\"]")
        #expect(r.matches(Fixtures.message()))
        #expect(r.matches(Fixtures.message(conversation: "33333333-3333-4333-8333-333333333333")))
        #expect(r.failure(for: Fixtures.message(conversation: "222")) == "conversation 222 not in [11111111-*, 33333333-3333-4333-8333-333333333333]")
        let presence = RoutableEvent(tenant: "org_demo", type: "presence:online", senderId: "user_1")
        #expect(try route("conversation = \"1*\" events = all").failure(for: presence) == "event has no conversation")
    }

    @Test func eventKinds() throws {
        let typing = RoutableEvent(tenant: "org_demo", type: "typing:update", conversationId: "c", senderId: "user_1")
        #expect(try route("").failure(for: typing) == "event typing:update (typing) not in [message]")
        #expect(try route("events = [typing, read]").matches(typing))
        #expect(try route("events = all").matches(typing))
        let sent = RoutableEvent(tenant: "org_demo", type: "message:sent")
        #expect(try route("events = all").failure(for: sent) == "event message:sent (other) not in [message, typing, read, presence, conversation, gap]")
        #expect(EventKind(eventName: "messages:read") == .read)
        #expect(EventKind(eventName: "presence:list") == .presence)
        #expect(EventKind(eventName: "conversation:error") == .conversation)
        #expect(EventKind(eventName: "typing:stop") == .typing)
        #expect(EventKind(eventName: "message:send") == .message)
        #expect(EventKind(eventName: "message:error") == .other)
    }

    /// `bridge:gap` (a reconnect that was not recovered) is the `gap` kind: selected by `gap` and
    /// `all`, not by the default, and it passes the conversation and message filters (it concerns
    /// every conversation of the tenant).
    @Test func gapEvents() throws {
        #expect(EventKind(eventName: "bridge:gap") == .gap)
        let gap = RoutableEvent(tenant: "org_demo", type: "bridge:gap")
        #expect(try route("").failure(for: gap) == "event bridge:gap (gap) not in [message]")
        #expect(try route("events = [gap]").matches(gap))
        #expect(try route("events = all").matches(gap))
        #expect(try route("events = [message, gap]  conversation = [\"1111*\"]  content = /^\\//  message_type = [TEXT]").matches(gap))
        #expect(try route("events = [gap]  tenant = \"org_other\"").failure(for: gap) == "tenant org_demo not in [org_other]")
        #expect(try route("events = [message]").failure(for: gap) == "event bridge:gap (gap) not in [message]")
    }

    @Test func messageType() throws {
        let r = try route("message_type = [text, ATTACHMENT]")
        #expect(r.matches(Fixtures.message(type: "TEXT")))
        #expect(r.failure(for: Fixtures.message(type: "SYSTEM")) == "message type SYSTEM not in [text, ATTACHMENT]")
        let typing = RoutableEvent(tenant: "org_demo", type: "typing:update", conversationId: "c")
        #expect(try route("message_type = TEXT events = all").failure(for: typing) == "event has no message type")
    }

    @Test func sender() throws {
        let r = try route("sender = \"user_*\"")
        #expect(r.matches(Fixtures.message(sender: "user_7")))
        #expect(r.failure(for: Fixtures.message(sender: "admin_1")) == "sender admin_1 not in [user_*]")
        #expect(try route("sender = \"*\" events = all").failure(for: RoutableEvent(tenant: "org_demo", type: "presence:list")) == "event has no sender")
    }

    @Test func ownMessagesExcludedUnlessIncludeSelf() throws {
        let own = Fixtures.message(sender: "user_bot")
        #expect(try route("").failure(for: own) == "sender user_bot is the daemon's own user (include_self = false)")
        #expect(try route("include_self = true").matches(own))
        var command = own
        command.direction = .fromSink
        #expect(try route("").matches(command))
    }

    @Test func content() throws {
        let r = try route(#"content = /^\/(help|time)\b/i"#)
        #expect(r.matches(Fixtures.message("/HELP me")))
        #expect(r.matches(Fixtures.message("/time")))
        #expect(r.failure(for: Fixtures.message("/timer")) == #"content does not match /^\/(help|time)\b/i"#)
        #expect(r.failure(for: Fixtures.message("please /help")) != nil)
        let m = try route(#"content = /^b/m"#)
        #expect(m.matches(Fixtures.message("a\nb")))
        #expect(try route(#"content = /a.b/s"#).matches(Fixtures.message("a\nb")))
        #expect(try route(#"content = /x/ events = all"#).failure(for: RoutableEvent(tenant: "org_demo", type: "typing:update", conversationId: "c")) == "event has no content")
    }

    @Test func direction() throws {
        var command = Fixtures.message()
        command.type = "message:send"
        command.direction = .fromSink
        #expect(try route("direction = to_sink").failure(for: command) == "direction from_sink not allowed (direction = to_sink)")
        #expect(try route("direction = from_sink").matches(command))
        #expect(try route("direction = from_sink").failure(for: Fixtures.message()) == "direction to_sink not allowed (direction = from_sink)")
        command.sourceSink = "other"
        #expect(try route("").failure(for: command) == "command from sink other, route sends to [bot]")
        command.sourceSink = "bot"
        #expect(try route("").matches(command))
    }

    @Test func firstMatchUnlessContinue() throws {
        let text = Fixtures.header + """
        sink hooks { type = webhook url = "https://x" }
        route a { to = bot  content = /^a/  continue = true }
        route b { to = hooks  content = /^a/ }
        route c { to = bot }
        route d { to = hooks }
        """
        let config = try Fixtures.load(text).get()
        #expect(config.match(Fixtures.message("abc")).map(\.name) == ["a", "b"])
        #expect(config.match(Fixtures.message("xyz")).map(\.name) == ["c"])
        #expect(config.match(Fixtures.message(sender: "user_bot")).isEmpty)
    }

    @Test func decodeEnvelope() throws {
        let json = try JSONValue(parsing: """
        {"id":"evt_9","type":"message:new","timestamp":"2026-11-26T10:00:00.000Z","tenant":"org_demo",
         "data":{"conversationId":"c1","message":{"id":"m1","conversationId":"c1","senderId":"user_1","content":"hi",
         "type":"TEXT","createdAt":"2024-12-29T10:00:00.000Z","sender":{"name":"Max"}}}}
        """)
        let e = try RoutableEvent.decode(envelope: json, selfUserId: "me").get()
        #expect(e.tenant == "org_demo" && e.type == "message:new" && e.conversationId == "c1" && e.senderId == "user_1")
        #expect(e.content == "hi" && e.messageType == "TEXT" && e.senderName == "Max" && e.eventId == "evt_9")
        #expect(e.createdAt == "2024-12-29T10:00:00.000Z" && e.selfUserId == "me" && e.direction == .toSink)
        #expect(e.envelope()["data"] == json["data"] && e.envelope()["id"] == "evt_9")

        let typing = try RoutableEvent.decode(envelope: ["type": "typing:update", "tenant": "t",
                                                         "data": ["userId": "u", "conversationId": "c", "isTyping": true]]).get()
        #expect(typing.senderId == "u" && typing.conversationId == "c" && typing.kind == .typing)
        let send = try RoutableEvent.decode(envelope: ["type": "message:send", "tenant": "t",
                                                       "data": ["conversationId": "c", "content": "yo"]], direction: .fromSink).get()
        #expect(send.messageType == "TEXT" && send.content == "yo" && send.direction == .fromSink)
        #expect(RoutableEvent.decode(envelope: ["tenant": "t"]) == .failure(EnvelopeError("the event has no string `type`")))
        #expect(RoutableEvent.decode(envelope: ["type": "x"]) == .failure(EnvelopeError("the event has no string `tenant`")))
        #expect(RoutableEvent.decode(envelope: [1]) == .failure(EnvelopeError("the event is not a JSON object")))
    }
}
