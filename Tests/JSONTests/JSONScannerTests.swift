import Testing
@testable import JSON

@Suite struct JSONScannerTests {
    private func elements(_ text: String) throws(JSONError) -> [String] {
        let bytes = Array(text.utf8)
        let ranges = try bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.arrayElements(raw) } }.get()
        return ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func splitsTopLevelElements() throws {
        #expect(try elements(#"["message:new",{"a":[1,2],"b":"x,]"}]"#) == [#""message:new""#, #"{"a":[1,2],"b":"x,]"}"#])
        #expect(try elements(" [ 1 , \"two\" , [3] , null ] ") == ["1", "\"two\"", "[3]", "null"])
        #expect(try elements("[]") == [])
        #expect(try elements(" [ ] ") == [])
    }

    @Test func validatesEveryElement() {
        #expect(throws: JSONError.unexpectedByte(0x5D, offset: 5)) { try elements("[1,2,]") }
        #expect(throws: JSONError.unexpectedByte(0x31, offset: 2)) { try elements("[01]") }
        #expect(throws: JSONError.loneSurrogate(offset: 7)) { try elements(#"["a",{"\ud800":1}]"#) }
        #expect(throws: JSONError.unexpectedEnd(offset: 4)) { try elements("[1,2") }
        #expect(throws: JSONError.trailingData(offset: 3)) { try elements("[1]]") }
        #expect(throws: JSONError.unexpectedEnd(offset: 0)) { try elements("") }
        #expect(throws: JSONError.unexpectedByte(0x3A, offset: 2)) { try elements("[1:2]") }
    }

    @Test func rejectsNonArrays() {
        #expect(throws: JSONError.unexpectedType(expected: "an array", offset: 1)) { try elements(" {\"a\":1}") }
        #expect(throws: JSONError.unexpectedType(expected: "an array", offset: 0)) { try elements("\"x\"") }
        // A broken non-array reports the syntax error, not the type.
        #expect(throws: JSONError.unexpectedEnd(offset: 5)) { try elements("{\"a\":") }
    }

    @Test func limitsDepthLikeTheParser() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(try elements(ok).count == 1)
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(throws: JSONError.tooDeep(offset: 128)) { try elements(deep) }
    }

    @Test func agreesWithTheParserOnEveryPrefix() {
        // Byte by byte: every prefix of a valid document is rejected by both, the same way.
        let text = #"["ev",{"k":"v\u00e9\n","n":[1.5e3,-0,true,false,null]},"😀"]"#
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            let prefix = Array(bytes[..<end])
            let parserError = Result { () throws(JSONError) in try JSONValue(parsing: prefix) }
            let scannerError = prefix.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.arrayElements(raw) } }
            guard case .failure(let a) = parserError, case .failure(let b) = scannerError else {
                Issue.record("prefix of length \(end) accepted")
                continue
            }
            #expect(a == b, "prefix \(end)")
        }
        #expect(throws: Never.self) { try elements(text) }
    }

    @Test func scansStringsEightBytesAtATimeLikeOneAtATime() throws {
        // Each special byte at every position of a long plain run, so the word-at-a-time fast
        // path meets it at every offset within a word and near the end of the input.
        let plain = "abcdefghijklmnopqrstuvwxyz0123"
        for i in 0..<plain.count {
            let head = String(plain.prefix(i)), tail = String(plain.dropFirst(i))
            #expect(try elements("[\"\(head)\\n\(tail)\"]") == ["\"\(head)\\n\(tail)\""])
            #expect(try elements("[\"\(head)é\(tail)\",1]") == ["\"\(head)é\(tail)\"", "1"])
            #expect(try elements("[\"\(head)\",\"\(tail)\"]") == ["\"\(head)\"", "\"\(tail)\""])
            #expect(throws: JSONError.controlCharacter(offset: 2 + i)) { try elements("[\"\(head)\t\(tail)\"]") }
            let bad = Array("[\"\(head)".utf8) + [0xFF] + Array("\(tail)\"]".utf8)
            let result = bad.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.arrayElements(raw) } }
            #expect(throws: JSONError.invalidUTF8(offset: 2 + i)) { try result.get() }
            #expect(throws: JSONError.unexpectedEnd(offset: 2 + plain.utf8.count)) { try elements("[\"\(plain)") }
        }
    }

    @Test func escapesLongStringsLikeTheSerializer() {
        let plain = "abcdefghijklmnopqrstuvwxyz0123"
        for i in 0...plain.count {
            for special in ["\"", "\\", "\n", "\u{01}", "\u{2028}", "é", "\u{7F}"] {
                let s = String(plain.prefix(i)) + special + String(plain.dropFirst(i))
                var out: [UInt8] = []
                JSONScanner.appendEscaped(s, into: &out)
                #expect(String(decoding: out, as: UTF8.self) == JSONValue.string(s).serialized())
            }
        }
    }

    @Test func validatesAndDecodesStrings() throws {
        let kind = try Array(" {\"a\":1} ".utf8).withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.validate(raw) } }.get()
        #expect(kind == UInt8(ascii: "{"))
        #expect(throws: JSONError.trailingData(offset: 2)) {
            try Array("1 1".utf8).withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.validate(raw) } }.get()
        }
        #expect(Array(#""a\nb""#.utf8).withUnsafeBytes { JSONScanner.decodeString($0) } == "a\nb")
        #expect(Array(#""a" "#.utf8).withUnsafeBytes { JSONScanner.decodeString($0) } == nil)
        #expect(Array("1".utf8).withUnsafeBytes { JSONScanner.decodeString($0) } == nil)
        #expect(Array(#""\x""#.utf8).withUnsafeBytes { JSONScanner.decodeString($0) } == nil)
    }
}

@Suite struct JSONStringPathsTests {
    @Test func readsStringsLikeValueLookups() throws {
        let paths = [["a"], ["b", "c"], ["b", "d", "e"], ["b"], ["x", "y"], ["n"]]
        let query = JSONStringPaths(paths)
        for text in [#"{"a":"1","b":{"c":"2","d":{"e":"3"}},"n":5}"#, #"{"b":{"c":1,"c":"last"},"a":"x","a":"y"}"#,
                     #"{"x":[{"y":"no"}],"b":"s","\u0061":"esc"}"#, #"[]"#, #""s""#, #"{"b":{"d":{"e":{"f":"deep"}}}}"#,
                     #"{"b":{"c":"x","d":{"e":"y"}},"b":"s"}"#, #"{"b":"s","b":{"c":"x"}}"#, #"{"b":{"c":"x"},"b":{"d":{}}}"#] {
            let bytes = Array(text.utf8)
            let value = try JSONValue(parsing: bytes)
            let strings = try bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try query.strings(in: raw) } }.get()
            let expected = paths.map { path in path.reduce(Optional(value)) { $0?[$1] }?.stringValue }
            #expect(strings == expected, "\(text)")
        }
    }

    @Test func validatesLikeTheParserOnEveryPrefix() {
        let text = #"{"k":"v\u00e9\n","m":{"n":[1.5e3,-0,true,false,null],"o":"😀"}}"#
        let bytes = Array(text.utf8)
        let query = JSONStringPaths([["k"], ["m", "o"]])
        for end in 0..<bytes.count {
            let prefix = Array(bytes[..<end])
            let parsed = Result { () throws(JSONError) in try JSONValue(parsing: prefix) }
            let scanned = prefix.withUnsafeBytes { raw in Result { () throws(JSONError) in try query.strings(in: raw) } }
            guard case .failure(let a) = parsed, case .failure(let b) = scanned else { Issue.record("prefix \(end) accepted"); continue }
            #expect(a == b, "prefix \(end)")
        }
        let deep = "{\"a\":" + String(repeating: "[", count: 128) + String(repeating: "]", count: 128) + "}"
        let a = Result { () throws(JSONError) in try JSONValue(parsing: Array(deep.utf8)) }
        let b = Array(deep.utf8).withUnsafeBytes { raw in Result { () throws(JSONError) in try query.strings(in: raw) } }
        #expect(a.map { _ in 0 } == b.map { _ in 0 })
    }
}
