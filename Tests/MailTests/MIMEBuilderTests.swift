import Testing
@testable import Mail

@Suite struct MIMEBuilderTests {
    func mail(subject: String = "Bob in Support", name: String = "Bob via MOJO", text: String = "Hello\nWorld") -> OutgoingMail {
        var m = OutgoingMail(from: MailAddress(name: name, address: "bridge@example.com"),
                             to: MailAddress(address: "alice@example.org"), subject: subject, date: 1_796_459_736,
                             messageId: MessageIDs.message("msg-1", recipient: "alice@example.org", domain: "example.com"), text: text)
        m.replyTo = MailAddress(name: name, address: "reply+abc.def@example.com")
        m.inReplyTo = MessageIDs.thread("conv-1", recipient: "alice@example.org", domain: "example.com")
        m.references = [m.inReplyTo!]
        m.listId = ("Support", "conv-1.example.com")
        return m
    }

    func parsed(_ m: OutgoingMail) throws -> MIMEEntity {
        var parser = MIMEParser()
        return try parser.parse(try m.render())
    }

    @Test func headersAndBodyRoundTrip() throws {
        let bytes = try mail().render()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("Date: Sat, 05 Dec 2026 "))
        #expect(text.contains("\r\nAuto-Submitted: auto-generated\r\n"))
        #expect(text.contains("\r\nList-Id: Support <conv-1.example.com>\r\n"))
        #expect(text.contains("\r\nMessage-ID: <m.msg-1."))
        let e = try parsed(mail())
        #expect(e.header("Subject") == "Bob in Support")
        #expect(e.header("From") == "Bob via MOJO <bridge@example.com>")
        #expect(Charset.utf8.decode(e.body) == "Hello\nWorld\n")
        // Every line ends in CRLF and is shorter than 78 characters.
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            #expect(line.utf8.count < 78)
            #expect(!line.contains("\n") && !line.contains("\r"))
        }
    }

    @Test func nonASCIISubjectAndNameAreEncodedWords() throws {
        let m = mail(subject: "Grüße aus München – ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé", name: "Jürgen Müller")
        let text = String(decoding: try m.render(), as: UTF8.self)
        #expect(text.utf8.allSatisfy { $0 < 128 })
        #expect(text.contains("From: =?UTF-8?B?"))
        let e = try parsed(m)
        #expect(HeaderEncoding.decode(e.header("Subject")!) == m.subject)
        #expect(MailAddress.parse(e.header("From")!)?.name == "Jürgen Müller")
    }

    @Test func headerInjectionIsImpossible() throws {
        let evil = "Hi\r\nBcc: victim@example.net\r\n\r\nbody"
        let m = mail(subject: evil, name: "Eve\r\nBcc: victim@example.net", text: "x\r\n.\r\nMAIL FROM:<a@b>\r\n")
        let e = try parsed(m)
        #expect(e.header("Bcc") == nil)
        #expect(e.headers.count == 14)
        let body = Charset.utf8.decode(e.body)
        #expect(body == "x\n.\nMAIL FROM:<a@b>\n")
        // A lone dot never starts a line of the encoded mail (SMTP's end of data).
        let raw = String(decoding: try m.render(), as: UTF8.self)
        #expect(!raw.contains("\r\n.\r\n"))
        var bad = m
        bad.to = MailAddress(address: "a@b.c>\r\nBcc: x@y")
        #expect(throws: MailBuildError.self) { try bad.render() }
    }

    @Test func htmlAlternative() throws {
        var m = mail(text: "a < b & c")
        m.html = OutgoingMail.htmlEscaped(m.text)
        let e = try parsed(m)
        #expect(e.contentType == "multipart/alternative")
        #expect(e.parts.count == 2)
        #expect(Charset.utf8.decode(e.parts[1].body) == "a &lt; b &amp; c")
        #expect(MailContent(e).text == "a < b & c")
    }

    @Test func quotedPrintableLongLinesAndRoundTrip() {
        let long = String(repeating: "é", count: 100) + " " + String(repeating: "x", count: 200) + "   \n.dot\nFrom here\n= \t"
        let encoded = QuotedPrintable.encode(long)
        for line in encoded.split(separator: 10) { #expect(line.count <= 77) }
        #expect(String(decoding: QuotedPrintable.decode(encoded), as: UTF8.self) == long + "\n")
    }

    @Test func base32RoundTripAndStrictness() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base32.encode(bytes)
            #expect(Base32.decode(text) == bytes)
            #expect(Base32.decode(text.uppercased()) == bytes)
        }
        #expect(Base32.decode("mzxw6ytb0") == nil)
        #expect(Base32.decode("mz") == nil)  // non-zero trailing bits
        #expect(Base32.encode(Array("foobar".utf8)) == "mzxw6ytboi")
    }

    @Test func mailDates() {
        #expect(MailDate.format(unixSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(MailDate.format(unixSeconds: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 +0000")
        #expect(MailDate.format(unixSeconds: 1_796_459_736) == "Sat, 05 Dec 2026 08:35:36 +0000")
    }

    @Test func messageIDsReadBack() {
        let id = MessageIDs.message("9f8e7d6c-0000-4000-8000-000000000001", recipient: "A@x.org", domain: "Bridge.Example.com")
        #expect(MessageIDs.mojoMessage(in: "<other@x> " + id, domain: "bridge.example.com") == "9f8e7d6c-0000-4000-8000-000000000001")
        let odd = MessageIDs.message("id with spaces/ü", recipient: "a@x.org", domain: "b.example")
        #expect(OutgoingMail.isMessageID(odd))
        #expect(MessageIDs.mojoMessage(in: odd, domain: "b.example") == "id with spaces/ü")
        #expect(MessageIDs.mojoMessage(in: "<m.abc.def@elsewhere.example>", domain: "b.example") == nil)
        #expect(MessageIDs.message("m", recipient: "A@X.org", domain: "d") == MessageIDs.message("m", recipient: "a@x.org", domain: "d"))
    }

    @Test func digestMessageIDsDependOnTheMessagesAndTheRecipient() {
        let a = MessageIDs.digest(["m1", "m2"], recipient: "alice@example.org", domain: "bridge.test")
        #expect(a.hasPrefix("<d.2.") && a.hasSuffix("@bridge.test>"))
        #expect(a == MessageIDs.digest(["m1", "m2"], recipient: "Alice@Example.org", domain: "bridge.test"))
        #expect(a != MessageIDs.digest(["m1", "m2", "m3"], recipient: "alice@example.org", domain: "bridge.test"))
        #expect(a != MessageIDs.digest(["m1m2"], recipient: "alice@example.org", domain: "bridge.test"))
        #expect(a != MessageIDs.digest(["m1", "m2"], recipient: "bob@example.org", domain: "bridge.test"))
        #expect(MessageIDs.mojoMessage(in: a, domain: "bridge.test") == nil)
    }
}
