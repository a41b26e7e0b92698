import JSON
import Mojo
import Rules
import Testing

/// What `check --event` and `mojo-bridge test` show for a template-less JSON sink is what the
/// relay sends: one encoder (`EnvelopeEncoding`) behind both.
@Suite struct EnvelopeParityTests {
    @Test(arguments: [0, 2])
    func theRulesRenderingIsTheRelaysEnvelope(hops: Int) throws {
        let data = #"{"message":{"id":"m1","conversationId":"c1","senderId":"u1","content":"h\u00e9 \"q\"\n","createdAt":"2026-12-05T10:00:00.000Z"}}"#
        let parsed = try JSONValue(parsing: Array(data.utf8))
        let event = RoutableEvent(tenant: "org_a", type: "message:new", payload: parsed, direction: .toSink, selfUserId: nil,
                                  eventId: "evt_1")
        var relay: [UInt8] = []
        var compact: [UInt8] = []
        parsed.serialize(into: &compact)
        compact.withUnsafeBytes { buf in
            Envelope.encode(id: "evt_1", type: "message:new", timestamp: "2026-12-05T10:00:00.000Z", tenant: "org_a", hops: hops,
                            data: buf, into: &relay)
        }
        #expect(event.envelopeText(hops: hops) == String(decoding: relay, as: UTF8.self))
        #expect(try JSONValue(parsing: relay)["hops"]?.intValue == (hops > 0 ? hops : nil))
    }
}
