import Testing
@testable import JSON

@Suite struct JSONParserTests {
    @Test func parsesScalars() throws {
        #expect(try JSONValue(parsing: "null") == .null)
        #expect(try JSONValue(parsing: " true ") == .bool(true))
        #expect(try JSONValue(parsing: "false") == .bool(false))
        #expect(try JSONValue(parsing: "\"hi\"") == .string("hi"))
        #expect(try JSONValue(parsing: "\n\t\r 0 ") == .number("0"))
    }

    @Test(arguments: ["0", "-0", "1", "-12", "1.5", "1.50", "0.001", "1e3", "1E+3", "-2.5e-10", "123456789012345678901234567890"])
    func keepsNumberTextLosslessly(_ text: String) throws {
        let value = try JSONValue(parsing: text)
        #expect(value == .number(text))
        #expect(value.serialized() == text)
    }

    @Test(arguments: ["01", "-", "+1", "1.", ".5", "1e", "1e+", "--1", "0x10", "1.e3", "-a", "Infinity", "NaN"])
    func rejectsMalformedNumbers(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: text) }
    }

    @Test func parsesNestedStructures() throws {
        let value = try JSONValue(parsing: #" { "a" : [1, {"b": null}, "c"], "d": {} , "e": [] } "#)
        #expect(value["a"]?[0]?.intValue == 1)
        #expect(value["a"]?[1]?["b"] == .null)
        #expect(value["a"]?[2]?.stringValue == "c")
        #expect(value["d"]?.objectValue?.isEmpty == true)
        #expect(value["e"]?.arrayValue == [])
        #expect(value.objectValue?.keys == ["a", "d", "e"])
        #expect(value["missing"] == nil)
        #expect(value["a"]?[3] == nil)
        #expect(value["a"]?[-1] == nil)
    }

    @Test func preservesKeyOrderAndResolvesDuplicatesLikeJavaScript() throws {
        let value = try JSONValue(parsing: #"{"z":1,"a":2,"z":3}"#)
        #expect(value.objectValue?.keys == ["z", "a"])
        #expect(value["z"]?.intValue == 3)
        #expect(value.serialized() == #"{"z":3,"a":2}"#)
    }

    @Test func resolvesDuplicatesInLargeObjects() throws {
        var text = "{"
        for i in 0..<40 { text += "\"k\(i)\":\(i)," }
        text += "\"k3\":\"again\",\"k39\":true}"
        let object = try #require(try JSONValue(parsing: text).objectValue)
        #expect(object.count == 40)
        #expect(object["k3"] == "again")
        #expect(object["k39"] == true)
        #expect(object.keys.last == "k39")
    }

    @Test func decodesEscapes() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\u{08}\u{0C}\n\r\tAé€😀"))
    }

    @Test func keepsRawUTF8() throws {
        #expect(try JSONValue(parsing: "\"Grüße 😀 日本\"") == .string("Grüße 😀 日本"))
    }

    @Test func rejectsLoneSurrogates() {
        #expect(throws: JSONError.loneSurrogate(offset: 1)) { try JSONValue(parsing: #""\ud83d""#) }
        #expect(throws: JSONError.loneSurrogate(offset: 1)) { try JSONValue(parsing: #""\ud83dx""#) }
        #expect(throws: JSONError.loneSurrogate(offset: 1)) { try JSONValue(parsing: #""\ude00""#) }
        #expect(throws: JSONError.loneSurrogate(offset: 1)) { try JSONValue(parsing: #""\ud83d\u0041""#) }
    }

    @Test func rejectsBadEscapes() {
        #expect(throws: JSONError.invalidEscape(offset: 1)) { try JSONValue(parsing: #""\x""#) }
        #expect(throws: JSONError.invalidEscape(offset: 1)) { try JSONValue(parsing: #""\u12g4""#) }
        #expect(throws: JSONError.unexpectedEnd(offset: 5)) { try JSONValue(parsing: #""\u12"#) }
        #expect(throws: JSONError.unexpectedEnd(offset: 2)) { try JSONValue(parsing: #""\"#) }
    }

    @Test func rejectsControlCharactersInStrings() {
        #expect(throws: JSONError.controlCharacter(offset: 2)) { try JSONValue(parsing: "\"a\nb\"") }
        #expect(throws: JSONError.controlCharacter(offset: 1)) { try JSONValue(parsing: "\"\u{0}\"") }
    }

    @Test(arguments: [
        [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0x80, 0x22], [0x22, 0xF0, 0x9F, 0x98],
    ] as [[UInt8]])
    func rejectsInvalidUTF8(_ bytes: [UInt8]) {
        #expect(throws: JSONError.invalidUTF8(offset: 1)) { try JSONValue(parsing: bytes) }
    }

    @Test func acceptsBoundaryUTF8() throws {
        let bytes: [UInt8] = [0x22, 0xC2, 0x80, 0xDF, 0xBF, 0xE0, 0xA0, 0x80, 0xED, 0x9F, 0xBF, 0xEE, 0x80, 0x80, 0xF0, 0x90, 0x80, 0x80, 0xF4, 0x8F, 0xBF, 0xBF, 0x22]
        let value = try JSONValue(parsing: bytes)
        #expect(value.stringValue?.unicodeScalars.map(\.value) == [0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0x10000, 0x10FFFF])
    }

    @Test(arguments: [
        ("", JSONError.unexpectedEnd(offset: 0)), ("   ", .unexpectedEnd(offset: 3)), ("[1,]", .unexpectedByte(0x5D, offset: 3)),
        ("[1 2]", .unexpectedByte(0x32, offset: 3)), ("{\"a\" 1}", .unexpectedByte(0x31, offset: 5)), ("{1:2}", .unexpectedByte(0x31, offset: 1)),
        ("{\"a\":1,}", .unexpectedByte(0x7D, offset: 7)), ("[", .unexpectedEnd(offset: 1)), ("{\"a\":", .unexpectedEnd(offset: 5)),
        ("tru", .unexpectedEnd(offset: 3)), ("nul!", .unexpectedByte(0x21, offset: 3)), ("1 2", .trailingData(offset: 2)),
        ("{} x", .trailingData(offset: 3)), ("'a'", .unexpectedByte(0x27, offset: 0)), ("\"abc", .unexpectedEnd(offset: 4)),
        ("[1}", .unexpectedByte(0x7D, offset: 2)), ("{\"a\":1]", .unexpectedByte(0x5D, offset: 6)), ("\u{FEFF}1", .unexpectedByte(0xEF, offset: 0)),
    ])
    func reportsErrorsWithOffsets(_ text: String, _ error: JSONError) {
        #expect(throws: error) { try JSONValue(parsing: text) }
        #expect(!error.description.isEmpty)
    }

    @Test func limitsDepth() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(throws: Never.self) { try JSONValue(parsing: ok) }
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(throws: JSONError.tooDeep(offset: 128)) { try JSONValue(parsing: deep) }
        let deepObjects = String(repeating: "{\"a\":", count: 129) + "1" + String(repeating: "}", count: 129)
        #expect(throws: JSONError.tooDeep(offset: 5 * 128)) { try JSONValue(parsing: deepObjects) }
        // Far deeper input must fail cleanly rather than exhaust the stack.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONError.tooDeep(offset: 128)) { try JSONValue(parsing: hostile) }
    }

    @Test func parsesNonContiguousCollections() throws {
        let bytes = Array("[1,\"x\"]".utf8)
        #expect(try JSONValue(parsing: bytes.lazy.map { $0 }) == [1, "x"])
        #expect(try JSONValue(parsing: bytes[...]) == [1, "x"])
    }

    @Test func errorDescriptionsNameTheProblem() {
        #expect(JSONError.unexpectedByte(0x7D, offset: 7).description == "invalid JSON: unexpected byte '}' at offset 7")
        #expect(JSONError.unexpectedByte(0x0A, offset: 1).description.contains("0xa"))
        #expect(JSONError.tooDeep(offset: 3).description.contains("128"))
        #expect(JSONError.unexpectedType(expected: "an array", offset: 0).description.contains("an array"))
        #expect(JSONError.invalidUTF8(offset: 9).offset == 9)
    }
}
