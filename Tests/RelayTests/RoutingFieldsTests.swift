import JSON
import Rules
import Testing
@testable import Relay

/// The relay reads the routing fields straight from the payload bytes; they must be exactly what
/// `RoutableEvent(tenant:type:payload:...)` pulls out of the parsed payload.
@Suite struct RoutingFieldsTests {
    static let payloads: [String] = [
        #"{"message":{"id":"m1","conversationId":"c1","senderId":"u1","type":"TEXT","content":"hi \"there\"","sender":{"name":"Ann","avatarUrl":null},"createdAt":"2026-01-01T00:00:00.000Z"}}"#,
        #"{"conversationId":"c2","userId":"u2","isTyping":true}"#,
        #"{"conversationId":"c3","senderId":"u3","type":"IMAGE","content":"x","timestamp":"t"}"#,
        #"{"message":{"conversationId":1,"senderId":null,"sender":"Bob","content":["no"]},"conversationId":"c4","content":"top"}"#,
        #"{"message":"not an object","conversationId":"c5","readAt":"r","lastSeen":"l"}"#,
        #"{"message":{"conversationId":"old"},"message":{"senderId":"new"},"userId":"a","userId":"b"}"#,
        #"{"message":{"content":"a\u00e9\n\ud83d\ude00","sender":{"name":"x","name":"y"}},"m\u0065ssage":{"type":"SYSTEM"}}"#,
        #"{"lastSeen":"l","timestamp":"t"}"#, #"{}"#, #"[1,2]"#, #""text""#, #"null"#, " { \"type\" : \"T\" } ",
    ]

    @Test(arguments: payloads, ["message:new", "message:send", "presence:online"])
    func sameFieldsAsTheParsedPayload(payload: String, type: String) throws {
        let bytes = Array(payload.utf8)
        let fields = try bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try Bridge.routingFields.strings(in: raw) } }.get()
        var fast = RoutableEvent(tenant: "o", type: type, fields: fields, direction: .toSink, selfUserId: "me", eventId: "evt_1")
        let parsed = try JSONValue(parsing: bytes)
        fast.data = parsed
        #expect(fast == RoutableEvent(tenant: "o", type: type, payload: parsed, direction: .toSink, selfUserId: "me", eventId: "evt_1"))
    }

    @Test func noPayload() {
        let fast = RoutableEvent(tenant: "o", type: "message:send", fields: [], direction: .toSink, selfUserId: nil, eventId: "evt_1")
        #expect(fast == RoutableEvent(tenant: "o", type: "message:send", payload: .null, direction: .toSink, selfUserId: nil, eventId: "evt_1"))
    }

    @Test(arguments: [#"{"a":1,}"#, #"{"message":{"content":"x"}"#, #"{"a":"\ud800"}"#, #"{"a":1} x"#, "", #"{"a":01}"#])
    func malformedPayloadsFailLikeTheParser(payload: String) {
        let bytes = Array(payload.utf8)
        let fast = bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try Bridge.routingFields.strings(in: raw) } }
        let parsed = Result { () throws(JSONError) in try JSONValue(parsing: bytes) }
        guard case .failure(let a) = fast, case .failure(let b) = parsed else { Issue.record("accepted \(payload)"); return }
        #expect(a == b)
    }
}
