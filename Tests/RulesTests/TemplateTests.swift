import JSON
import Testing
@testable import Rules

@Suite struct TemplateTests {
    let at = SourceLocation(file: "f", line: 1, column: 10)

    func render(_ text: String, _ e: RoutableEvent = Fixtures.message(), _ escaping: TemplateEscaping) throws -> String {
        try Template(parsing: text, location: at).render(e, escaping: escaping)
    }

    @Test func everyField() throws {
        let t = "{content}|{sender.id}|{sender.name}|{conversation}|{tenant}|{type}|{message.type}|{message.id}|{time}|{id}"
        #expect(try render(t, Fixtures.message(conversation: "c1"), .line)
            == "hello|user_1|Max|c1|org_demo|message:new|TEXT|m1|2024-12-29T10:00:00.000Z|evt_1")
    }

    @Test func dataPathsAndBraces() throws {
        var e = Fixtures.message()
        e.data = ["a": ["b": [10, "x", ["c": true]]], "n": .null]
        #expect(try render("{{{data.a.b.1}}} {data.a.b.0} {data.a.b.2.c} {data.a.b.2} [{data.n}] [{data.missing.x}]", e, .line)
            == #"{x} 10 true {"c":true} [] []"#)
        #expect(try render("{data}", e, .line) == #"{"a":{"b":[10,"x",{"c":true}]},"n":null}"#)
    }

    @Test func senderNameFallsBackToId() throws {
        var e = Fixtures.message()
        e.senderName = nil
        #expect(try render("{sender.name}", e, .line) == "user_1")
    }

    @Test func parseErrorsPointIntoTheString() {
        #expect(throws: ConfigError(SourceLocation(file: "f", line: 1, column: 16), "unknown template field `{bogus}`",
                                    hint: "fields are content, conversation, data, id, message.id, message.type, sender.id, sender.name, tenant, time, type, data.<path>")) {
            try Template(parsing: "abc {bogus}", location: at)
        }
        #expect(throws: ConfigError(SourceLocation(file: "f", line: 1, column: 12), "unknown template field `{data.}`",
                                    hint: "did you mean `{data}`?")) {
            try Template(parsing: "{data.}", location: at)
        }
    }

    @Test func jsonEscapesValuesNotTheTemplate() throws {
        let e = Fixtures.message("say \"hi\"\\\n\u{1}\u{2028}")
        // JSON's own braces are written doubled, like every literal brace in a template.
        #expect(try render(#"{{"text":"{content}","who":"{sender.name}"}}"#, e, .json)
            == #"{"text":"say \"hi\"\\\n\u0001\u2028","who":"Max"}"#)
        let parsed = try JSONValue(parsing: try render(#"{{"text":"{content}"}}"#, e, .json))
        #expect(parsed["text"]?.stringValue == e.content)
    }

    @Test func lineIsOneLine() throws {
        let e = Fixtures.message("a\r\nb\rc\nd\te\u{0}f\u{2028}g\u{85}h")
        #expect(try render("> {content}", e, .line) == "> a b c d e f g h")
        #expect(try render("x\ny", e, .line) == "x y")
    }

    @Test func headerInjectionNeverReachesAHeader() throws {
        let attacks = ["hi\r\nBcc: victim@example.com", "hi\nBcc: v@e", "hi\rBcc: v@e", "hi\u{2028}Bcc: v@e", "a\r\n\r\nbody"]
        for attack in attacks {
            let out = try render("Re: {content}", Fixtures.message(attack), .header)
            #expect(!out.contains("\r") && !out.contains("\n"), "\(out)")
            #expect(out.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F })
        }
        #expect(try render("Re: {content}", Fixtures.message("hi\r\nBcc: v@e"), .header) == "Re: hi Bcc: v@e")
        #expect(try render("{content}", Fixtures.message("a\u{0}\u{7}b"), .header) == "ab")
    }

    @Test func headerEncodesNonASCIIAsRFC2047() throws {
        #expect(try render("{sender.name}", Fixtures.message(name: "Jürgen"), .header) == "=?UTF-8?B?SsO8cmdlbg==?=")
        #expect(try render("{content}", Fixtures.message("=?x?="), .header) == "=?UTF-8?B?PT94Pz0=?=")
        let long = String(repeating: "ü", count: 40)
        let out = try render("{content}", Fixtures.message(long + "\nBcc: x"), .header)
        let words = out.split(separator: " ")
        #expect(words.count == 2)
        #expect(words.allSatisfy { $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") && $0.count <= 75 })
        #expect(!out.contains("\n") && !out.contains("\r"))
    }

    @Test func base64() {
        #expect(TemplateEscaping.base64(Array("".utf8)) == "")
        #expect(TemplateEscaping.base64(Array("f".utf8)) == "Zg==")
        #expect(TemplateEscaping.base64(Array("fo".utf8)) == "Zm8=")
        #expect(TemplateEscaping.base64(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    @Test func bodyNormalisesLineBreaks() throws {
        let e = Fixtures.message("l1\nl2\r\nl3\rl4\u{0}\tend")
        #expect(try render("{content}\n-- \nbridge", e, .body) == "l1\r\nl2\r\nl3\r\nl4\tend\r\n-- \r\nbridge")
    }

    @Test func defaultsPerSinkKind() throws {
        let text = Fixtures.header + """
        sink text { type = pipe command = ["x"] format = text }
        sink hooks { type = webhook url = "https://x" }
        sink desk { type = email smtp = "smtp://h" from = "a@b" to = "c@d" }
        route r { to = [bot, text, hooks, desk] }
        """
        let config = try Fixtures.load(text).get()
        let e = Fixtures.message("hi\nthere", conversation: "c1")
        let route = config.routes[0]
        let rendered = config.sinks.map { route.render(e, for: $0) }
        #expect(rendered[0] == e.envelope().serialized())
        #expect(rendered[0].hasPrefix(#"{"id":"evt_1","type":"message:new","timestamp":"2024-12-29T10:00:00.000Z","tenant":"org_demo","data":{"#))
        #expect(rendered[1] == "Max: hi there")
        #expect(rendered[2] == rendered[0])
        #expect(rendered[3] == "Max wrote in conversation c1 at 2024-12-29T10:00:00.000Z:\r\n\r\nhi\r\nthere\r\n")
    }
}
