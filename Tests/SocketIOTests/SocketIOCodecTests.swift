import JSON
import Testing
@testable import SocketIO

@Suite struct SocketIOCodecTests {
    private func decode(_ text: String) throws(SocketIOError) -> SocketPacket {
        try SocketIOCodec.decode(Array(text.utf8))
    }

    private func payload(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func decodesEveryType() throws {
        #expect(try decode("0") == SocketPacket(type: .connect))
        #expect(try decode(#"0{"token":"t"}"#) == SocketPacket(type: .connect, payload: payload(#"{"token":"t"}"#)))
        #expect(try decode("0/admin,") == SocketPacket(type: .connect, namespace: "/admin"))
        #expect(try decode("1") == SocketPacket(type: .disconnect))
        #expect(try decode("1/admin,") == SocketPacket(type: .disconnect, namespace: "/admin"))
        #expect(try decode(#"2["message:new",{"a":1}]"#) == SocketPacket(type: .event, payload: payload(#"["message:new",{"a":1}]"#)))
        #expect(try decode(#"2/chat,12["x"]"#) == SocketPacket(type: .event, namespace: "/chat", ackId: 12, payload: payload(#"["x"]"#)))
        #expect(try decode(#"30[]"#) == SocketPacket(type: .ack, ackId: 0, payload: payload("[]")))
        #expect(try decode(#"4{"message":"Unauthorized"}"#) == SocketPacket(type: .connectError, payload: payload(#"{"message":"Unauthorized"}"#)))
        #expect(try decode(#"4"Unable to connect""#) == SocketPacket(type: .connectError, payload: payload(#""Unable to connect""#)))
        #expect(try decode(#"51-["up",{"_placeholder":true,"num":0}]"#)
            == SocketPacket(type: .binaryEvent, attachments: 1, payload: payload(#"["up",{"_placeholder":true,"num":0}]"#)))
        #expect(try decode(#"62-/x,7[1]"#) == SocketPacket(type: .binaryAck, namespace: "/x", ackId: 7, attachments: 2, payload: payload("[1]")))
        // Without a comma the namespace runs to the end (as in the JS parser), leaving no payload.
        #expect(try decode("0/only{}").namespace == "/only{}")
        #expect(throws: SocketIOError.invalidPayload("missing array payload")) { try decode(#"2/only["x"]"#) }
    }

    @Test func returnsElementRangesForEvents() throws {
        let text = Array(#"2/n,5["ev", 1 ,{"b":[2]}]"#.utf8)
        let (packet, elements) = try text.withUnsafeBytes { raw in
            Result { () throws(SocketIOError) in try SocketIOCodec.decodeEvent(raw) }
        }.get()
        let bytes = try #require(packet.payload)
        #expect(elements.map { String(decoding: bytes[$0], as: UTF8.self) } == [#""ev""#, "1", #"{"b":[2]}"#])
    }

    @Test(arguments: [
        ("", SocketIOError.emptyPacket), ("7", .unknownPacketType(0x37)), ("a", .unknownPacketType(0x61)), ("/", .unknownPacketType(0x2F)),
        ("5[\"a\"]", .invalidAttachments), ("5-[\"a\"]", .invalidAttachments), ("51[\"a\"]", .invalidAttachments), ("5x-[\"a\"]", .invalidAttachments),
        ("51234567890-[\"a\"]", .invalidAttachments), ("212345678901234567[\"a\"]", .invalidAckId), ("29007199254740992[\"a\"]", .invalidAckId),
        ("2", .invalidPayload("missing array payload")), ("3", .invalidPayload("missing array payload")), ("4", .invalidPayload("missing error payload")),
        ("2[]", .invalidPayload("EVENT array is empty")), ("2[1]", .invalidPayload("event name is not a string")),
        ("2{\"a\":1}", .invalidPayload("payload must be an array")), ("3{}", .invalidPayload("payload must be an array")),
        ("2\"x\"", .invalidPayload("payload must be an array")), ("0[]", .invalidPayload("CONNECT payload must be an object")),
        ("0\"x\"", .invalidPayload("CONNECT payload must be an object")), ("0null", .invalidPayload("CONNECT payload must be an object")),
        ("1{}", .invalidPayload("DISCONNECT carries no payload")), ("4[1]", .invalidPayload("CONNECT_ERROR payload must be an object or a string")),
        ("4 1", .invalidPayload("whitespace before the payload")), ("2 [\"a\"]", .invalidPayload("whitespace before the payload")),
        ("2[\"connect\"]", .reservedEventName("connect")), ("2[\"disconnect\",1]", .reservedEventName("disconnect")),
        ("2[\"newListener\"]", .reservedEventName("newListener")), ("2[\"removeListener\"]", .reservedEventName("removeListener")),
        ("2[\"connect_error\"]", .reservedEventName("connect_error")), ("2[\"disconnecting\"]", .reservedEventName("disconnecting")),
        ("2[\"a\",]", .invalidJSON(.unexpectedByte(0x5D, offset: 5))), ("2[\"a\"", .invalidJSON(.unexpectedEnd(offset: 4))),
        ("0{\"a\":}", .invalidJSON(.unexpectedByte(0x7D, offset: 5))), ("1x", .invalidJSON(.unexpectedByte(0x78, offset: 0))),
    ])
    func rejects(_ text: String, _ error: SocketIOError) {
        #expect(throws: error) { try decode(text) }
        #expect(!error.description.isEmpty)
    }

    @Test func rejectsNamespaceWithInvalidUTF8() {
        #expect(throws: SocketIOError.invalidNamespace) { try SocketIOCodec.decode([0x32, 0x2F, 0xFF, 0x2C, 0x5B, 0x22, 0x61, 0x22, 0x5D]) }
    }

    @Test func roundTrips() throws {
        let packets = [
            SocketPacket(type: .connect, payload: payload(#"{"token":"jwt","tenantId":"org_1"}"#)),
            SocketPacket(type: .connect, namespace: "/admin"),
            SocketPacket(type: .disconnect),
            SocketPacket(type: .event, ackId: 0, payload: payload(#"["message:send",{"content":"Hallo 😀"}]"#)),
            SocketPacket(type: .event, namespace: "/n", ackId: SocketPacket.maximumAckId, payload: payload(#"["a"]"#)),
            SocketPacket(type: .ack, namespace: "/n", ackId: 3, payload: payload("[]")),
            SocketPacket(type: .connectError, payload: payload(#""nope""#)),
            SocketPacket(type: .binaryEvent, ackId: 1, attachments: 2, payload: payload(#"["b",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)),
            SocketPacket(type: .binaryAck, namespace: "/z", ackId: 9, attachments: 0, payload: payload("[]")),
        ]
        for packet in packets {
            #expect(try SocketIOCodec.decode(SocketIOCodec.encode(packet)) == packet)
        }
        #expect(String(decoding: SocketIOCodec.encode(packets[4]), as: UTF8.self) == #"2/n,9007199254740991["a"]"#)
        #expect(String(decoding: SocketIOCodec.encode(packets[7]), as: UTF8.self).hasPrefix("52-1["))
    }

    @Test func everyPrefixOfAnEventFailsCleanly() {
        let text = Array(#"2/chat,17["message:new",{"id":"m\u00e9","n":[1,2.5e-3]}]"#.utf8)
        for end in 0..<text.count {
            #expect(throws: SocketIOError.self) { try SocketIOCodec.decode(Array(text[..<end])) }
        }
        #expect(throws: Never.self) { try SocketIOCodec.decode(text) }
    }
}
