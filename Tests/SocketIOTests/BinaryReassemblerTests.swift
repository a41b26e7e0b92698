import JSON
import Testing
@testable import SocketIO

@Suite struct BinaryReassemblerTests {
    private func packet(_ text: String) throws -> SocketPacket { try SocketIOCodec.decode(Array(text.utf8)) }

    @Test func reassemblesAttachmentsInOrder() throws {
        var reassembler = BinaryReassembler()
        let header = try packet(#"52-3["upload",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]}]"#)
        #expect(try reassembler.receive(header) == nil)
        #expect(reassembler.isReassembling)
        #expect(try reassembler.receive(binary: [1, 2, 3]) == nil)
        let result = try #require(try reassembler.receive(binary: [0xFF]))
        #expect(!reassembler.isReassembling)
        #expect(result.type == .event)
        #expect(result.ackId == 3)
        #expect(result.attachments == 0)
        let value = try JSONValue(parsing: try #require(result.payload))
        #expect(value == ["upload", ["_binary": "/w=="], ["x": [["_binary": "AQID"]]]])
        #expect(BinaryReassembler.binaryBytes(of: try #require(value[1])) == [0xFF])
        #expect(BinaryReassembler.binaryBytes(of: "x") == nil)
    }

    @Test func passesPlainPacketsAndZeroAttachmentBinaries() throws {
        var reassembler = BinaryReassembler()
        let plain = try packet(#"2["a"]"#)
        #expect(try reassembler.receive(plain) == plain)
        let ack = try #require(try reassembler.receive(try packet("60-4[1]")))
        #expect(ack == SocketPacket(type: .ack, ackId: 4, payload: Array("[1]".utf8)))
    }

    @Test func rejectsOutOfOrderInput() throws {
        var reassembler = BinaryReassembler()
        #expect(throws: SocketIOError.unexpectedBinary) { try reassembler.receive(binary: [1]) }
        _ = try reassembler.receive(try packet(#"51-["a",{"_placeholder":true,"num":0}]"#))
        #expect(throws: SocketIOError.unexpectedText) { try reassembler.receive(try packet(#"2["b"]"#)) }
        #expect(!reassembler.isReassembling)
    }

    @Test func rejectsBadPlaceholdersAndLimits() throws {
        var reassembler = BinaryReassembler(maximumAttachments: 2)
        _ = try reassembler.receive(try packet(#"51-["a",{"_placeholder":true,"num":1}]"#))
        #expect(throws: SocketIOError.invalidPlaceholder) { try reassembler.receive(binary: [1]) }
        _ = try reassembler.receive(try packet(#"51-["a",{"_placeholder":true}]"#))
        #expect(throws: SocketIOError.invalidPlaceholder) { try reassembler.receive(binary: [1]) }
        #expect(throws: SocketIOError.tooManyAttachments(3)) { try reassembler.receive(try packet(#"53-["a"]"#)) }
        _ = try reassembler.receive(try packet(#"51-["a"]"#))
        reassembler.reset()
        #expect(!reassembler.isReassembling)
    }
}
