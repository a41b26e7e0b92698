import JSON
import Testing
@testable import Mojo

@Suite struct EnvelopeTests {
    @Test func encodesTheSharedVocabularyWithDataSplicedUnchanged() {
        var out: [UInt8] = []
        let data = Array(#"{"message":{"id":"m1","content":"h\u00e9 \"x\""},"conversationId":"c1"}"#.utf8)
        data.withUnsafeBytes { Envelope.encode(id: "evt_1", type: "message:new", timestamp: "2026-11-26T10:00:00.000Z", tenant: "org_\"x", data: $0, into: &out) }
        let text = String(decoding: out, as: UTF8.self)
        #expect(text == #"{"id":"evt_1","type":"message:new","timestamp":"2026-11-26T10:00:00.000Z","tenant":"org_\"x","data":"# + String(decoding: data, as: UTF8.self) + "}")
        let parsed = try? JSONValue(parsing: out)
        #expect(parsed?["tenant"]?.stringValue == "org_\"x")
        #expect(parsed?["data"]?["message"]?["content"]?.stringValue == "hé \"x\"")
    }

    @Test func emptyDataBecomesNull() {
        var out: [UInt8] = []
        Envelope.encode(id: "e", type: "presence:get", timestamp: "t", tenant: "o", data: UnsafeRawBufferPointer(start: nil, count: 0), into: &out)
        #expect(String(decoding: out, as: UTF8.self).hasSuffix(#""data":null}"#))
    }

    @Test func parsesCommandsInTheSharedVocabulary() throws {
        let line = Array(#"{"id":"cmd_1","type":"message:send","tenant":"org_x","data":{"conversationId":"c1","content":"hi","type":"SYSTEM","replyToId":"m0"}}"#.utf8)
        let inbound = try Envelope.parseCommand(line, defaultConversation: nil, plainText: false)
        #expect(inbound == .init(id: "cmd_1", tenant: "org_x", command: .send(conversationId: "c1", content: "hi", type: "SYSTEM", replyToId: "m0")))
    }

    @Test func plainTextIsMessageSendToTheBoundConversation() throws {
        let inbound = try Envelope.parseCommand(Array("hello {world}".utf8), defaultConversation: "c9", plainText: true)
        #expect(inbound.command == .send(conversationId: "c9", content: "hello {world}"))
        #expect(throws: CommandError.missingField(command: "message:send", field: "conversationId")) {
            try Envelope.parseCommand(Array("hello".utf8), defaultConversation: nil, plainText: true)
        }
    }

    @Test func defaultConversationFillsAMissingOne() throws {
        let inbound = try Envelope.parseCommand(Array(#"{"type":"typing:start"}"#.utf8), defaultConversation: "c2", plainText: true)
        #expect(inbound.command == .typingStart(conversationId: "c2"))
    }

    @Test(arguments: [
        (#"{"type":"message:send","data":{"conversationId":"c"}}"#, CommandError.missingField(command: "message:send", field: "content")),
        (#"{"type":"message:send","data":{"conversationId":"c","content":""}}"#, CommandError.emptyContent),
        (#"{"type":"message:send","data":{"conversationId":"c","content":5}}"#, CommandError.wrongType(command: "message:send", field: "content", expected: "a string")),
        (#"{"type":"message:send","data":{"conversationId":"c","content":"x","type":"VIDEO"}}"#, CommandError.wrongType(command: "message:send", field: "type", expected: "TEXT, SYSTEM or ATTACHMENT")),
        (#"{"type":"typing:start","data":{}}"#, CommandError.missingField(command: "typing:start", field: "conversationId")),
        (#"{"type":"typing:start","data":{"conversationId":7}}"#, CommandError.wrongType(command: "typing:start", field: "conversationId", expected: "a non-empty string")),
        (#"{"type":"message:delete","data":{}}"#, CommandError.unknownCommand("message:delete")),
        (#"{"data":{}}"#, CommandError.missingField(command: "command", field: "type")),
        (#"["message:send"]"#, CommandError.notAnObject),
        (#"{"type":"messages:read","data":"c1"}"#, CommandError.wrongType(command: "messages:read", field: "data", expected: "an object")),
    ])
    func badCommandsSayWhatIsWrong(line: String, expected: CommandError) {
        #expect(throws: expected) { try Envelope.parseCommand(Array(line.utf8), defaultConversation: nil, plainText: false) }
    }

    @Test func invalidJSONIsReported() {
        #expect(throws: CommandError.self) { try Envelope.parseCommand(Array(#"{"type":"#.utf8), defaultConversation: nil, plainText: false) }
        #expect(throws: CommandError.invalidUTF8) { try Envelope.parseCommand([0x68, 0xFF, 0x69], defaultConversation: "c", plainText: true) }
    }
}

@Suite struct CommandTests {
    @Test func argumentsFollowTheReference() {
        #expect(MojoCommand.send(conversationId: "c", content: "x").arguments.first?.serialized() == #"{"conversationId":"c","content":"x"}"#)
        #expect(MojoCommand.read(conversationId: "c", lastReadAt: "t").arguments.first?.serialized() == #"{"conversationId":"c","lastReadAt":"t"}"#)
        #expect(MojoCommand.presenceGet.arguments.isEmpty)
        #expect(MojoCommand.join(conversationId: "c").eventName == "conversation:join")
        #expect(MojoCommand.typingStop(conversationId: "c").eventName == "typing:stop")
    }
}

@Suite struct EventTests {
    @Test func decodesEveryServerEvent() throws {
        let m = try MojoEvent(name: "message:new", data: try JSONValue(parsing: #"{"message":{"id":"m","conversationId":"c","senderId":"u","content":"hi","type":"TEXT","createdAt":"2024-12-29T10:00:00.000Z","sender":{"name":"Max","avatarUrl":"https://a"}},"conversationId":"c"}"#))
        #expect(m == .messageNew(MojoMessage(id: "m", conversationId: "c", senderId: "u", content: "hi", type: "TEXT", createdAt: "2024-12-29T10:00:00.000Z", senderName: "Max", senderAvatarUrl: "https://a", replyToId: nil)))
        let cases: [(String, String, MojoEvent)] = [
            ("message:sent", #"{"messageId":"m","conversationId":"c","timestamp":"t"}"#, .messageSent(messageId: "m", conversationId: "c", timestamp: "t")),
            ("message:error", #"{"error":"nope","conversationId":"c"}"#, .messageError(error: "nope", conversationId: "c")),
            ("typing:update", #"{"userId":"u","conversationId":"c","isTyping":true}"#, .typingUpdate(userId: "u", conversationId: "c", isTyping: true)),
            ("messages:read", #"{"userId":"u","conversationId":"c","readAt":"t"}"#, .messagesRead(userId: "u", conversationId: "c", readAt: "t")),
            ("presence:online", #"{"userId":"u","tenantId":"o","timestamp":"t"}"#, .presenceOnline(userId: "u", tenantId: "o", timestamp: "t")),
            ("presence:offline", #"{"userId":"u","tenantId":"o","lastSeen":"t"}"#, .presenceOffline(userId: "u", tenantId: "o", lastSeen: "t")),
            ("presence:list", #"{"tenantId":"o","onlineUsers":["a","b"]}"#, .presenceList(tenantId: "o", onlineUsers: ["a", "b"])),
            ("conversation:joined", #"{"conversationId":"c"}"#, .conversationJoined(conversationId: "c")),
            ("conversation:left", #"{"conversationId":"c"}"#, .conversationLeft(conversationId: "c")),
            ("conversation:error", #"{"error":"x","conversationId":"c"}"#, .conversationError(error: "x", conversationId: "c")),
            ("something:new", #"{}"#, .other(name: "something:new")),
        ]
        for (name, json, expected) in cases {
            #expect(try MojoEvent(name: name, data: try JSONValue(parsing: json)) == expected, "\(name)")
        }
    }

    @Test func missingFieldsAreNamed() {
        #expect(throws: MojoDecodingError(event: "message:new", field: "message.senderId", problem: "missing or not a string")) {
            try MojoEvent(name: "message:new", data: try! JSONValue(parsing: #"{"message":{"id":"m","conversationId":"c","content":"x"}}"#))
        }
        #expect(throws: MojoDecodingError(event: "typing:update", field: "isTyping", problem: "missing or not a boolean")) {
            try MojoEvent(name: "typing:update", data: try! JSONValue(parsing: #"{"userId":"u","conversationId":"c"}"#))
        }
    }
}
