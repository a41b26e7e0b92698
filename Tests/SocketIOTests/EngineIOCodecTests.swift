import Testing
@testable import SocketIO

@Suite struct EngineIOCodecTests {
    private func decode(_ text: String) throws(EngineIOError) -> EnginePacket {
        try EngineIOCodec.decodeText(Array(text.utf8))
    }

    private func encode(_ packet: EnginePacket) -> (String, Bool) {
        var out: [UInt8] = []
        let binary = EngineIOCodec.encode(packet, into: &out)
        return (String(decoding: out, as: UTF8.self), binary)
    }

    @Test func decodesEveryTextType() throws {
        #expect(try decode("1") == .close)
        #expect(try decode("2") == .ping([]))
        #expect(try decode("2probe") == .ping(Array("probe".utf8)))
        #expect(try decode("3probe") == .pong(Array("probe".utf8)))
        #expect(try decode("42[\"a\"]") == .message(Array("2[\"a\"]".utf8)))
        #expect(try decode("4") == .message([]))
        #expect(try decode("5") == .upgrade)
        #expect(try decode("6") == .noop)
    }

    @Test func decodesOpen() throws {
        let packet = try decode(#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#)
        #expect(packet == .open(EngineOpen(sid: "lv_VI97HAXpY6yYWAAAC", upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1_000_000)))
        let minimal = try decode(#"0{"sid":"s","pingInterval":1,"pingTimeout":2}"#)
        #expect(minimal == .open(EngineOpen(sid: "s", upgrades: [], pingInterval: 1, pingTimeout: 2, maxPayload: 1_000_000)))
    }

    @Test(arguments: [
        "0", "0[]", #"0{"upgrades":[],"pingInterval":1,"pingTimeout":1}"#, #"0{"sid":"","pingInterval":1,"pingTimeout":1}"#,
        #"0{"sid":"s","pingTimeout":1}"#, #"0{"sid":"s","pingInterval":"1","pingTimeout":1}"#,
        #"0{"sid":"s","pingInterval":-1,"pingTimeout":1}"#, #"0{"sid":"s","pingInterval":1.5,"pingTimeout":1}"#,
        #"0{"sid":"s","upgrades":"websocket","pingInterval":1,"pingTimeout":1}"#, #"0{"sid":"s","upgrades":[1],"pingInterval":1,"pingTimeout":1}"#,
        #"0{"sid":"s","pingInterval":1,"pingTimeout":1,"maxPayload":null}"#, #"0{"sid":1,"pingInterval":1,"pingTimeout":1}"#,
    ])
    func rejectsInvalidOpen(_ text: String) {
        #expect {
            try decode(text)
        } throws: { error in
            guard case EngineIOError.invalidOpen(let why) = error else { return false }
            return !why.isEmpty
        }
    }

    @Test func rejectsEmptyAndUnknown() {
        #expect(throws: EngineIOError.emptyPacket) { try decode("") }
        #expect(throws: EngineIOError.unknownPacketType(UInt8(ascii: "7"))) { try decode("7") }
        #expect(throws: EngineIOError.unknownPacketType(UInt8(ascii: "b"))) { try decode("bAAA") }
        #expect(EngineIOError.unknownPacketType(0x01).description.contains("0x1"))
        #expect(EngineIOError.payloadTooLarge(size: 5, maxPayload: 4).description.contains("maxPayload 4"))
    }

    @Test func encodesAndRoundTrips() throws {
        let open = EngineOpen(sid: "abc", upgrades: ["websocket"], pingInterval: 300, pingTimeout: 200, maxPayload: 5)
        let packets: [EnginePacket] = [.open(open), .close, .ping([]), .ping(Array("probe".utf8)), .pong(Array("probe".utf8)),
                                       .message(Array("2[\"x\"]".utf8)), .upgrade, .noop]
        for packet in packets {
            var out: [UInt8] = []
            #expect(EngineIOCodec.encode(packet, into: &out) == false)
            #expect(out.count == EngineIOCodec.encodedSize(packet))
            #expect(try EngineIOCodec.decodeText(out) == packet)
        }
        #expect(encode(.message(Array("2[\"x\"]".utf8))) == ("42[\"x\"]", false))
        #expect(encode(.pong([])) == ("3", false))
        #expect(encode(.binary([1, 2, 3])) == ("\u{1}\u{2}\u{3}", true))
        #expect(EngineIOCodec.decodeBinary([1, 2]) == .binary([1, 2]))
        #expect(EngineIOCodec.encodedSize(.binary([1, 2])) == 2)
    }

    @Test func decodesPollingPayloads() throws {
        let body = Array("0{\"sid\":\"s\",\"pingInterval\":1,\"pingTimeout\":2}\u{1E}40\u{1E}bAQID\u{1E}2\u{1E}6".utf8)
        let packets = try EngineIOCodec.decodePayload(body)
        #expect(packets == [.open(EngineOpen(sid: "s", pingInterval: 1, pingTimeout: 2)), .message(Array("0".utf8)), .binary([1, 2, 3]), .ping([]), .noop])
        // Byte by byte growth: every prefix either decodes or fails cleanly, never crashes.
        for end in 0...body.count { _ = try? EngineIOCodec.decodePayload(Array(body[..<end])) }
    }

    @Test func pollingErrors() {
        #expect(throws: EngineIOError.emptyPacket) { try EngineIOCodec.decodePayload([]) }
        #expect(throws: EngineIOError.emptyPacket) { try EngineIOCodec.decodePayload(Array("2\u{1E}".utf8)) }
        #expect(throws: EngineIOError.emptyPacket) { try EngineIOCodec.decodePayload(Array("2\u{1E}\u{1E}3".utf8)) }
        #expect(throws: EngineIOError.invalidBase64(offset: 4)) { try EngineIOCodec.decodePayload(Array("2\u{1E}bA!==".utf8)) }
        #expect(throws: EngineIOError.unknownPacketType(UInt8(ascii: "9"))) { try EngineIOCodec.decodePayload(Array("4x\u{1E}9".utf8)) }
    }

    @Test func pollingRoundTripsInBulk() throws {
        var packets: [EnginePacket] = []
        for i in 0..<200 {
            switch i % 4 {
            case 0: packets.append(.message(Array("2[\"ev\",\(i)]".utf8)))
            case 1: packets.append(.binary((0..<UInt8(i % 7)).map { $0 &* 37 }))
            case 2: packets.append(.ping([]))
            default: packets.append(.binary([0x1E, 0xFF, 0x00]))
            }
        }
        var body: [UInt8] = []
        EngineIOCodec.encodePayload(packets, into: &body)
        #expect(try EngineIOCodec.decodePayload(body) == packets)
    }

    @Test func base64MatchesRFC4648Vectors() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(decodeBase64(encoded) == Array(plain.utf8))
            #expect(decodeBase64(String(encoded.filter { $0 != "=" })) == Array(plain.utf8))
        }
        #expect(throws: Base64.BadByte(offset: 2)) { try Array("Zg=".utf8).withUnsafeBytes { raw in Result { () throws(Base64.BadByte) in try Base64.decode(raw) } }.get() }
        #expect(throws: Base64.BadByte(offset: 0)) { try Array("Z".utf8).withUnsafeBytes { raw in Result { () throws(Base64.BadByte) in try Base64.decode(raw) } }.get() }
        #expect(decodeBase64("Zm9v\n") == nil)
    }

    private func decodeBase64(_ text: String) -> [UInt8]? {
        Array(text.utf8).withUnsafeBytes { raw in try? Base64.decode(raw) }
    }
}

/// Found by the engineio fuzz target (Tests/Fuzz/crashes/engineio-deadline-overflow): huge
/// timings in the open packet must be refused, not overflow the liveness deadline.
@Test func hugeTimingsInTheOpenPacketAreRefused() {
    let text = Array(#"0{"sid":"a","pingInterval":5000000000000000000,"pingTimeout":5000000000000000000}"#.utf8)
    #expect(throws: EngineIOError.self) { try EngineIOCodec.decodeText(text) }
    let ok = Array(#"0{"sid":"a","pingInterval":2147483647,"pingTimeout":2147483647}"#.utf8)
    guard case .open(let open)? = try? EngineIOCodec.decodeText(ok) else { Issue.record("the largest timer value is valid"); return }
    var state = EngineIOClientState(transport: .websocket, now: .milliseconds(0))
    _ = state.received(.open(open), now: .milliseconds(0))
    #expect(state.checkLiveness(now: .milliseconds(1)) != .dead)
}
