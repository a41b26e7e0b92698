import Testing
@testable import JSON

@Suite struct JSONSerializationTests {
    @Test func serializesCompactly() {
        let value: JSONValue = ["b": [1, 2.5, true, nil], "a": "x", "c": [:], "d": []]
        #expect(value.serialized() == #"{"b":[1,2.5,true,null],"a":"x","c":{},"d":[]}"#)
    }

    @Test func escapesWhatMustBeEscaped() {
        let value = JSONValue.string("q\"b\\n\nr\rt\tb\u{08}f\u{0C}z\u{0}u\u{1F}/é😀\u{2028}\u{2029}\u{7F}")
        #expect(value.serialized() == #""q\"b\\n\nr\rt\tb\bf\fz\u0000u\u001f/é😀\u2028\u2029"# + "\u{7F}\"")
    }

    @Test func escapedOutputRoundTrips() throws {
        let samples = ["", "plain", "\u{0}\u{1}\u{1E}\u{1F}", "\u{2028}x\u{2029}", "日本語 😀", "\\\"", "\u{E2}\u{80}"]
        for sample in samples {
            var bytes: [UInt8] = []
            JSONScanner.appendEscaped(sample, into: &bytes)
            #expect(try JSONValue(parsing: bytes) == .string(sample))
        }
    }

    @Test func valuesRoundTrip() throws {
        let texts = [
            #"{"message":{"id":"m1","content":"Hallo \"Welt\"","n":-1.25e3,"tags":["a","b"],"meta":null,"ok":false}}"#,
            #"[[],[[]],{},{"":""}]"#,
            #""\u0000""#,
        ]
        for text in texts {
            let value = try JSONValue(parsing: text)
            #expect(value.serialized() == text)
            #expect(try JSONValue(parsing: value.serialized()) == value)
        }
    }

    @Test func doublesBecomeNumbersOrNull() {
        #expect(JSONValue(2.0) == .number("2"))
        #expect(JSONValue(0.1) == .number("0.1"))
        #expect(JSONValue(1e300).doubleValue == 1e300)
        #expect(JSONValue(Double.nan) == .null)
        #expect(JSONValue(-Double.infinity) == .null)
        #expect(JSONValue(42) == .number("42"))
    }

    @Test func accessorsInterpretValues() throws {
        #expect(JSONValue.number("2e3").intValue == 2000)
        #expect(JSONValue.number("2.5").intValue == nil)
        #expect(JSONValue.number("1e400").intValue == nil)
        #expect(JSONValue.number("9223372036854775807").intValue == Int.max)
        #expect(JSONValue.number("2.5").doubleValue == 2.5)
        #expect(JSONValue.string("2").intValue == nil)
        #expect(JSONValue.bool(true).boolValue == true)
        #expect(JSONValue.null.boolValue == nil)
        #expect(JSONValue.null.isNull)
        #expect(JSONValue.string("s").arrayValue == nil)
        #expect(JSONValue.array([]).objectValue == nil)
        #expect(JSONValue.number("1").stringValue == nil)
        #expect("\(JSONValue.array([1, "a"]))" == #"[1,"a"]"#)
    }

    @Test func objectsEditInPlaceAndKeepOrder() {
        var object: JSONObject = ["token": "t", "tenantId": "org_1"]
        object["pid"] = "p"
        object["token"] = "t2"
        #expect(object.keys == ["token", "tenantId", "pid"])
        #expect(object["token"] == "t2")
        object["tenantId"] = nil
        object["absent"] = nil
        #expect(object.keys == ["token", "pid"])
        #expect(object.count == 2)
        #expect(Array(object.map(\.key)) == ["token", "pid"])
        let merged = object.merging(["pid": "q", "offset": "o"])
        #expect(merged.keys == ["token", "pid", "offset"])
        #expect(merged["pid"] == "q")
        #expect(JSONObject([("a", 1), ("a", 2)]).values == [2])
        #expect(JSONObject() != JSONObject([("a", 1)]))
    }
}
