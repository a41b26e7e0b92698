import Testing
@testable import WebSocket

@Suite struct UTF8ValidatorTests {
    @Test(arguments: [
        [], [0x41], Array("κόσμε".utf8), Array("a€𝄞ü".utf8),
        [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
        [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
        Array("0123456789abcdefé0123456789".utf8),
    ] as [[UInt8]])
    func valid(bytes: [UInt8]) {
        #expect(UTF8Validator.isValid(bytes))
        // Split at every position: incremental feeding must agree.
        for split in 0...bytes.count {
            var validator = UTF8Validator()
            #expect(validator.feed(Array(bytes[..<split])) == true)
            #expect(validator.feed(Array(bytes[split...])) == true)
            #expect(validator.isComplete)
        }
    }

    @Test(arguments: [
        [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF],                  // stray continuation, overlong 2-byte
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],                      // overlong 3-byte
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],                      // surrogates
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],          // overlong 4-byte
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],  // > U+10FFFF
        [0xC2, 0x41], [0xE1, 0x80, 0x41], [0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0xFE],
    ] as [[UInt8]])
    func invalid(bytes: [UInt8]) {
        #expect(!UTF8Validator.isValid(bytes))
        for split in 0...bytes.count {
            var validator = UTF8Validator()
            let ok = validator.feed(Array(bytes[..<split])) && validator.feed(Array(bytes[split...]))
            #expect(!ok)
        }
    }

    @Test(arguments: [[0xC2], [0xE0, 0xA0], [0xF0, 0x90, 0x80], [0x41, 0xF4]] as [[UInt8]])
    func truncated(bytes: [UInt8]) {
        var validator = UTF8Validator()
        #expect(validator.feed(bytes) == true)
        #expect(!validator.isComplete)
        #expect(!UTF8Validator.isValid(bytes))
    }

    @Test func agreesWithStandardLibraryOnAllTwoAndThreeByteSequences() {
        for first in 0xC0...0xF7 {
            for second in 0x70...0xC0 {
                for third in [0x41, 0x80, 0xBF, 0xC0] {
                    let bytes: [UInt8] = [UInt8(first), UInt8(second), UInt8(third)]
                    let stdlib = String(validating: bytes, as: UTF8.self) != nil
                    #expect(UTF8Validator.isValid(bytes) == stdlib, "\(bytes)")
                }
            }
        }
    }
}
