import Testing
@testable import WebSocket

@Suite struct WebSocketFrameParserTests {
    // RFC 6455 §5.7 examples.
    static let unmaskedHello: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
    static let fragmentedHello: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F]
    static let ping: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]

    @Test(arguments: Feeding.allCases)
    func rfcExampleUnmasked(feeding: Feeding) throws {
        let (frames, leftover) = try parseFrames(Self.unmaskedHello, feeding: feeding)
        #expect(frames == [WebSocketFrame(fin: true, opcode: .text, payload: Array("Hello".utf8))])
        #expect(leftover == 0)
    }

    @Test(arguments: Feeding.allCases)
    func rfcExampleMaskedOnServerSide(feeding: Feeding) throws {
        let (frames, _) = try parseFrames(Self.maskedHello, feeding: feeding, expectMasked: true)
        #expect(frames == [WebSocketFrame(fin: true, opcode: .text, payload: Array("Hello".utf8))])
    }

    @Test(arguments: Feeding.allCases)
    func manyFramesInOneBuffer(feeding: Feeding) throws {
        let bytes = Self.fragmentedHello + Self.ping + Self.unmaskedHello + [0x8A, 0x00] + [0x88, 0x02, 0x03, 0xE8]
        let (frames, leftover) = try parseFrames(bytes, feeding: feeding)
        #expect(frames.map(\.opcode) == [.text, .continuation, .ping, .text, .pong, .close])
        #expect(frames.map(\.fin) == [false, true, true, true, true, true])
        #expect(frames[0].payload == Array("Hel".utf8))
        #expect(frames[1].payload == Array("lo".utf8))
        #expect(frames[5].payload == [0x03, 0xE8])
        #expect(leftover == 0)
    }

    @Test(arguments: Feeding.allCases)
    func extendedLengths(feeding: Feeding) throws {
        // 256 bytes uses the 16-bit length, 65536 bytes the 64-bit one (RFC 6455 §5.7).
        let medium = pseudoRandomBytes(256, seed: 1)
        let large = pseudoRandomBytes(65536, seed: 2)
        var bytes: [UInt8] = [0x82, 0x7E, 0x01, 0x00] + medium
        bytes += [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + large
        let (frames, _) = try parseFrames(bytes, feeding: feeding == .dripFeed ? .chunksOf7 : feeding)
        #expect(frames.map(\.payload) == [medium, large])
    }

    @Test func dripFeedOfExtendedLength() throws {
        let payload = pseudoRandomBytes(300, seed: 3)
        let (frames, _) = try parseFrames([0x82, 0x7E, 0x01, 0x2C] + payload, feeding: .dripFeed)
        #expect(frames.map(\.payload) == [payload])
    }

    @Test func rsvBitsArePassedThrough() throws {
        let (frames, _) = try parseFrames([0xF2, 0x00], feeding: .whole)
        #expect(frames == [WebSocketFrame(fin: true, opcode: .binary, payload: [], rsv: 7)])
    }

    @Test func partialFrameNeedsMoreData() throws {
        var parser = WebSocketFrameParser()
        parser.append(Array(Self.unmaskedHello.prefix(4)))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 4)
        parser.append(Array(Self.unmaskedHello.dropFirst(4)))
        #expect(try parser.next()?.payload == Array("Hello".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func compactionKeepsUnconsumedBytes() throws {
        // Consume most of a buffer, then append: the partial frame must survive compaction.
        var parser = WebSocketFrameParser()
        parser.append(Self.unmaskedHello + Self.unmaskedHello + Array(Self.ping.prefix(3)))
        #expect(try parser.next() != nil)
        #expect(try parser.next() != nil)
        #expect(try parser.next() == nil)
        parser.append(Array(Self.ping.dropFirst(3)))
        #expect(try parser.next() == WebSocketFrame(opcode: .ping, payload: Array("Hello".utf8)))
    }

    @Test(arguments: [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] as [UInt8])
    func reservedOpcodes(opcode: UInt8) {
        for feeding in Feeding.allCases {
            #expect(parseError([0x80 | opcode, 0x00], feeding: feeding) == .reservedOpcode(opcode))
        }
    }

    @Test(arguments: Feeding.allCases)
    func maskedServerFrameIsRejected(feeding: Feeding) {
        #expect(parseError(Self.maskedHello, feeding: feeding) == .maskedFrame)
    }

    @Test(arguments: Feeding.allCases)
    func unmaskedClientFrameIsRejected(feeding: Feeding) {
        #expect(parseError(Self.unmaskedHello, feeding: feeding, expectMasked: true) == .unmaskedFrame)
    }

    @Test(arguments: Feeding.allCases)
    func controlFrameLimits(feeding: Feeding) {
        #expect(parseError([0x09, 0x00], feeding: feeding) == .fragmentedControlFrame)
        #expect(parseError([0x89, 0x7E, 0x00, 0x7E], feeding: feeding) == .controlFrameTooLarge)
        #expect(parseError([0x88, 0x7E, 0x00, 0x7E], feeding: feeding) == .controlFrameTooLarge)
    }

    @Test(arguments: Feeding.allCases)
    func sixtyFourBitLengthWithHighBitSet(feeding: Feeding) {
        #expect(parseError([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1], feeding: feeding) == .invalidLength)
    }

    @Test(arguments: Feeding.allCases)
    func frameTooLargeFailsBeforePayloadArrives(feeding: Feeding) {
        #expect(parseError([0x82, 0x7E, 0x01, 0x00], feeding: feeding, maxFrameSize: 255) == .frameTooLarge(256))
        #expect(parseError([0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], feeding: feeding)
            == .frameTooLarge(0x7FFF_FFFF_FFFF_FFFF))
    }

    @Test func frameAtTheLimitIsAccepted() throws {
        let (frames, _) = try parseFrames([0x82, 0x7E, 0x01, 0x00] + [UInt8](repeating: 1, count: 256), feeding: .whole, maxFrameSize: 256)
        #expect(frames.count == 1)
    }

    @Test func errorCloseCodesAndDescriptions() {
        let errors: [WebSocketProtocolError] = [
            .reservedOpcode(3), .reservedBitsSet(4), .maskedFrame, .unmaskedFrame, .invalidLength,
            .controlFrameTooLarge, .fragmentedControlFrame, .frameTooLarge(1), .messageTooLarge,
            .unexpectedContinuation, .expectedContinuation, .invalidUTF8, .invalidClosePayload, .invalidCloseCode(5),
        ]
        #expect(errors.map(\.closeCode) == [1002, 1002, 1002, 1002, 1002, 1002, 1002, 1009, 1009, 1002, 1002, 1007, 1002, 1002])
        #expect(Set(errors.map(\.description)).count == errors.count)
        #expect(errors.allSatisfy { !$0.description.isEmpty })
    }
}
