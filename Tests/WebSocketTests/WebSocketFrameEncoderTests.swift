import Testing
@testable import WebSocket

@Suite struct WebSocketFrameEncoderTests {
    static let key: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)

    @Test func rfcExamples() {
        var buffer: [UInt8] = []
        WebSocketFrameEncoder.encode(text: "Hello", maskKey: nil, into: &buffer)
        #expect(buffer == WebSocketFrameParserTests.unmaskedHello)
        buffer = []
        WebSocketFrameEncoder.encode(text: "Hello", maskKey: Self.key, into: &buffer)
        #expect(buffer == WebSocketFrameParserTests.maskedHello)
        buffer = []
        WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hel".utf8), fin: false, maskKey: nil, into: &buffer)
        WebSocketFrameEncoder.encode(opcode: .continuation, payload: Array("lo".utf8), maskKey: nil, into: &buffer)
        #expect(buffer == WebSocketFrameParserTests.fragmentedHello)
    }

    @Test func appendsWithoutDisturbingExistingBytes() {
        var buffer: [UInt8] = [1, 2, 3]
        WebSocketFrameEncoder.encode(opcode: .ping, payload: [], maskKey: nil, into: &buffer)
        #expect(buffer == [1, 2, 3, 0x89, 0x00])
    }

    @Test func lengthEncodingBoundaries() {
        for (count, headerLength) in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            var buffer: [UInt8] = []
            WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 0, count: count), maskKey: nil, into: &buffer)
            #expect(buffer.count == headerLength + count)
            var masked: [UInt8] = []
            WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 0, count: count), maskKey: Self.key, into: &masked)
            #expect(masked.count == headerLength + 4 + count)
            #expect(masked[1] & 0x80 != 0)
        }
    }

    @Test func closeFrames() {
        var buffer: [UInt8] = []
        WebSocketFrameEncoder.encodeClose(code: 1000, reason: "bye", maskKey: nil, into: &buffer)
        #expect(buffer == [0x88, 0x05, 0x03, 0xE8] + Array("bye".utf8))
        buffer = []
        WebSocketFrameEncoder.encodeClose(code: nil, maskKey: nil, into: &buffer)
        #expect(buffer == [0x88, 0x00])
        buffer = []
        WebSocketFrameEncoder.encodeClose(code: 1005, reason: "ignored", maskKey: nil, into: &buffer)
        #expect(buffer == [0x88, 0x00])
        // A long reason is cut at a character boundary so the payload stays within 125 bytes.
        buffer = []
        WebSocketFrameEncoder.encodeClose(code: 1001, reason: String(repeating: "é", count: 100), maskKey: nil, into: &buffer)
        #expect(buffer[1] == 124)
        #expect(UTF8Validator.isValid(Array(buffer[4...])))
    }

    @Test(arguments: Feeding.allCases)
    func roundTripClientToServer(feeding: Feeding) throws {
        let frames = Self.sampleFrames()
        let bytes = encodeFrames(frames, maskKey: Self.key)
        let (parsed, leftover) = try parseFrames(bytes, feeding: feeding, expectMasked: true)
        #expect(parsed == frames)
        #expect(leftover == 0)
    }

    @Test(arguments: Feeding.allCases)
    func roundTripServerToClient(feeding: Feeding) throws {
        let frames = Self.sampleFrames()
        let (parsed, _) = try parseFrames(encodeFrames(frames, maskKey: nil), feeding: feeding)
        #expect(parsed == frames)
    }

    @Test func maskingAllLengthsAndKeyPhases() throws {
        // Lengths around the 8-byte fast path exercise both the word loop and the tail.
        for count in 0..<40 {
            let payload = pseudoRandomBytes(count, seed: UInt64(count) + 10)
            var buffer: [UInt8] = []
            WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskKey: (1, 2, 3, 4), into: &buffer)
            let masked = Array(buffer.suffix(count))
            for index in 0..<count {
                #expect(masked[index] == payload[index] ^ UInt8(index % 4 + 1))
            }
            let (parsed, _) = try parseFrames(buffer, feeding: .whole, expectMasked: true)
            #expect(parsed.first?.payload == payload)
        }
    }

    @Test func encodingFromRawBufferMatchesArray() {
        let payload = pseudoRandomBytes(200, seed: 5)
        var fromArray: [UInt8] = []
        var fromRaw: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskKey: Self.key, into: &fromArray)
        payload.withUnsafeBytes { WebSocketFrameEncoder.encode(opcode: .binary, payload: $0, maskKey: Self.key, into: &fromRaw) }
        #expect(fromArray == fromRaw)
    }

    static func sampleFrames() -> [WebSocketFrame] {
        [
            WebSocketFrame(opcode: .text, payload: Array("héllo wörld".utf8)),
            WebSocketFrame(fin: false, opcode: .binary, payload: pseudoRandomBytes(126, seed: 7)),
            WebSocketFrame(opcode: .ping, payload: []),
            WebSocketFrame(opcode: .continuation, payload: pseudoRandomBytes(70000, seed: 8)),
            WebSocketFrame(opcode: .pong, payload: pseudoRandomBytes(125, seed: 9)),
            WebSocketFrame(opcode: .binary, payload: [], rsv: 5),
            WebSocketFrame(opcode: .close, payload: [0x03, 0xE8]),
        ]
    }
}
