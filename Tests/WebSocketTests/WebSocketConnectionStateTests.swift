import Testing
@testable import WebSocket

@Suite struct WebSocketConnectionStateTests {
    /// Parses `bytes` (server to client) per `feeding` and runs every frame through a fresh state.
    func outputs(_ bytes: [UInt8], feeding: Feeding, maxMessageSize: Int = 16 << 20) throws -> [WebSocketConnectionState.Output] {
        var state = WebSocketConnectionState(maxMessageSize: maxMessageSize)
        return try parseFrames(bytes, feeding: feeding).frames.map { state.receive($0) }
    }

    func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }

    @Test(arguments: Feeding.allCases)
    func messagesFromWire(feeding: Feeding) throws {
        var bytes: [UInt8] = []
        WebSocketFrameEncoder.encode(text: "plain", maskKey: nil, into: &bytes)
        // "héllo" split inside the two-byte "é", with a ping between the fragments.
        let hello = Array("héllo".utf8)
        WebSocketFrameEncoder.encode(opcode: .text, payload: Array(hello[0..<2]), fin: false, maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(opcode: .ping, payload: [7], maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(opcode: .continuation, payload: Array(hello[2...]), maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(opcode: .binary, payload: [1, 2], fin: false, maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(opcode: .continuation, payload: [], fin: false, maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(opcode: .pong, payload: [8], maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(opcode: .continuation, payload: [3], maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(opcode: .text, payload: [], maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encodeClose(code: 1001, reason: "bye", maskKey: nil, into: &bytes)
        WebSocketFrameEncoder.encode(text: "after close", maskKey: nil, into: &bytes)
        #expect(try outputs(bytes, feeding: feeding) == [
            .text("plain"), .nothing, .sendPong([7]), .text("héllo"),
            .nothing, .nothing, .pong([8]), .binary([1, 2, 3]), .text(""),
            .sendClose(code: 1001, reason: ""), .nothing,
        ])
    }

    @Test func peerCloseWithoutCodeIsAnsweredWithoutCode() {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.close, [])) == .sendClose(code: 1005, reason: ""))
        #expect(!state.isOpen)
        #expect(state.isClosed)
        #expect(state.close(code: 1000, reason: "") == false)
    }

    @Test func ourCloseIsAcknowledged() {
        var state = WebSocketConnectionState()
        #expect(state.close(code: 1000, reason: "done") == true)
        #expect(!state.isOpen)
        #expect(!state.isClosed)
        #expect(state.close(code: 1000, reason: "again") == false)
        // Data still flows until the peer's close; pings are no longer answered.
        #expect(state.receive(frame(.binary, [1])) == .binary([1]))
        #expect(state.receive(frame(.ping, [])) == .nothing)
        #expect(state.receive(frame(.pong, [2])) == .pong([2]))
        #expect(state.receive(frame(.close, [0x03, 0xE8] + Array("ok".utf8))) == .closed(code: 1000, reason: "ok"))
        #expect(state.isClosed)
        #expect(state.receive(frame(.text, Array("late".utf8))) == .nothing)
    }

    @Test func ourCloseAcknowledgedWithoutCode() {
        var state = WebSocketConnectionState()
        _ = state.close(code: 1001, reason: "")
        #expect(state.receive(frame(.close, [])) == .closed(code: nil, reason: ""))
    }

    @Test(arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func validCloseCodesAreEchoed(code: UInt16) {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)])) == .sendClose(code: code, reason: ""))
    }

    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidCloseCodes(code: UInt16) {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)])) == .protocolError(.invalidCloseCode(code)))
        #expect(state.isClosed)
    }

    @Test func closePayloadErrors() {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.close, [0x03])) == .protocolError(.invalidClosePayload))
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.close, [0x03, 0xE8, 0xC0, 0x80])) == .protocolError(.invalidUTF8))
        #expect(WebSocketProtocolError.invalidUTF8.closeCode == 1007)
    }

    @Test func sequencingErrors() {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.continuation, [1])) == .protocolError(.unexpectedContinuation))
        #expect(state.receive(frame(.text, [])) == .nothing) // closed after the error
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.text, [0x41], fin: false)) == .nothing)
        #expect(state.receive(frame(.binary, [1])) == .protocolError(.expectedContinuation))
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.binary, [1], fin: false)) == .nothing)
        #expect(state.receive(frame(.text, [0x41], fin: false)) == .protocolError(.expectedContinuation))
    }

    @Test func handBuiltControlFramesAreChecked() {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.ping, [], fin: false)) == .protocolError(.fragmentedControlFrame))
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.pong, [UInt8](repeating: 0, count: 126))) == .protocolError(.controlFrameTooLarge))
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.close, [UInt8](repeating: 0x41, count: 126))) == .protocolError(.controlFrameTooLarge))
    }

    @Test func reservedBitsAreRejected() {
        var state = WebSocketConnectionState()
        #expect(state.receive(WebSocketFrame(opcode: .text, payload: [], rsv: 4)) == .protocolError(.reservedBitsSet(4)))
        #expect(!state.isOpen)
        #expect(state.close(code: 1000, reason: "") == false)
    }

    @Test func invalidUTF8FailsFastAcrossFragments() {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.text, [0xCE, 0xBA], fin: false)) == .nothing)
        // 0xED 0xA0 starts a surrogate: rejected on this fragment although the message is unfinished.
        #expect(state.receive(frame(.continuation, [0xED, 0xA0], fin: false)) == .protocolError(.invalidUTF8))
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.text, [0xFF])) == .protocolError(.invalidUTF8))
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.text, [0xF0], fin: false)) == .nothing)
        #expect(state.receive(frame(.continuation, [0x8F])) == .protocolError(.invalidUTF8))
    }

    @Test func truncatedUTF8AtMessageEnd() {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.text, [0x41, 0xE2, 0x82], fin: false)) == .nothing)
        #expect(state.receive(frame(.continuation, [])) == .protocolError(.invalidUTF8))
        state = WebSocketConnectionState()
        #expect(state.receive(frame(.text, [0x41, 0xE2, 0x82])) == .protocolError(.invalidUTF8))
    }

    @Test func binaryMayHoldAnyBytes() {
        var state = WebSocketConnectionState()
        #expect(state.receive(frame(.binary, [0xFF, 0xC0], fin: false)) == .nothing)
        #expect(state.receive(frame(.continuation, [0xED, 0xA0])) == .binary([0xFF, 0xC0, 0xED, 0xA0]))
    }

    @Test func messageSizeLimit() {
        var state = WebSocketConnectionState(maxMessageSize: 4)
        #expect(state.receive(frame(.binary, [1, 2, 3, 4])) == .binary([1, 2, 3, 4]))
        #expect(state.receive(frame(.binary, [1, 2], fin: false)) == .nothing)
        #expect(state.receive(frame(.continuation, [3, 4], fin: false)) == .nothing)
        #expect(state.receive(frame(.continuation, [5])) == .protocolError(.messageTooLarge))
        #expect(WebSocketProtocolError.messageTooLarge.closeCode == 1009)
        state = WebSocketConnectionState(maxMessageSize: 4)
        #expect(state.receive(frame(.text, Array("hello".utf8))) == .protocolError(.messageTooLarge))
        state = WebSocketConnectionState(maxMessageSize: 4)
        #expect(state.receive(frame(.text, Array("hello".utf8), fin: false)) == .protocolError(.messageTooLarge))
    }

    @Test func closeCodeTable() {
        #expect(WebSocketCloseCode.isValidOnWire(WebSocketCloseCode.normal))
        #expect(!WebSocketCloseCode.isValidOnWire(WebSocketCloseCode.noStatus))
        #expect(WebSocketCloseCode.isValidOnWire(WebSocketCloseCode.messageTooBig))
    }
}
