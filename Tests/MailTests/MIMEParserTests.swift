#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Mail

@Suite struct MIMEParserTests {
    static let fixtures: [String] = ["gmail", "outlook", "applemail", "thunderbird", "iphone", "htmlonly-cp1252", "outlook-mobile-related"]

    static func fixture(_ name: String, _ ext: String) throws -> [UInt8] {
        let dir = String(#filePath.dropLast("MIMEParserTests.swift".count)) + "Fixtures/"
        return try readFile(dir + name + "." + ext)
    }

    @Test(arguments: fixtures) func fixtureReplies(_ name: String) throws {
        var parser = MIMEParser()
        let message = try parser.parse(try Self.fixture(name, "eml"))
        let expected = String(decoding: try Self.fixture(name, "expected"), as: UTF8.self)
        #expect(MailContent(message).replyText + "\n" == expected)
        #expect(MailAddress.parse(message.header("From") ?? "") != nil)
        #expect(InboundPolicy().refusal(message) == nil)
    }

    @Test(arguments: fixtures) func fixturesWithCRLFParseTheSame(_ name: String) throws {
        let lf = try Self.fixture(name, "eml")
        var crlf: [UInt8] = []
        for b in lf { if b == 10 { crlf.append(13) }; crlf.append(b) }
        var p1 = MIMEParser(), p2 = MIMEParser()
        #expect(MailContent(try p1.parse(lf)).replyText == MailContent(try p2.parse(crlf)).replyText)
    }

    @Test func malformed() {
        var parser = MIMEParser()
        #expect(throws: MIMEError.self) { try parser.parse(Array("just some text\nwithout headers\n".utf8)) }
        #expect(throws: MIMEError.self) { try parser.parse(Array("From: a@b\nContent-Type: multipart/mixed\n\nx\n".utf8)) }
        #expect(throws: MIMEError.self) { try parser.parse(Array("From: a@b\nContent-Type: multipart/mixed; boundary=zz\n\nno parts\n".utf8)) }
        var nested = "From: a@b\nContent-Type: multipart/mixed; boundary=b0\n\n"
        for i in 1..<20 { nested += "--b\(i - 1)\nContent-Type: multipart/mixed; boundary=b\(i)\n\n" }
        #expect(throws: MIMEError.self) { try parser.parse(Array(nested.utf8)) }
    }

    @Test func encodedWordsAndCharsets() {
        #expect(HeaderEncoding.decode("=?ISO-8859-1?Q?Gr=FC=DFe?= =?iso-8859-15?q?=A4?= und") == "Grüße€ und")
        #expect(HeaderEncoding.decode("=?utf-8?b?w7w=?=x") == "üx")
        #expect(HeaderEncoding.decode("plain =?bogus") == "plain =?bogus")
        #expect(Charset(name: "windows-1252").decode([0x80, 0x93, 0x94]) == "€“”")
        #expect(Charset(name: "ISO-8859-1").decode([0xE9]) == "é")
    }

    @Test func addresses() {
        #expect(MailAddress.parse("\"Meier, Hans\" <Hans.Meier@Corp.Example>")?.normalized == "hans.meier@corp.example")
        #expect(MailAddress.parse("\"Meier, Hans\" <Hans.Meier@Corp.Example>")?.name == "Meier, Hans")
        #expect(MailAddress.parse("bob@example.org (Bob)")?.address == "bob@example.org")
        #expect(MailAddress.parse("\"a <b@c>\" <real@x.org>")?.address == "real@x.org")
        #expect(MailAddress.parse("undisclosed-recipients:;") == nil)
    }

    @Test func policyRefusesAutomaticMailAndBounces() throws {
        func refusal(_ headers: String) throws -> InboundPolicy.Refusal? {
            var parser = MIMEParser()
            return InboundPolicy().refusal(try parser.parse(Array("From: a@b.org\n\(headers)\n\nhi\n".utf8)))
        }
        #expect(try refusal("Auto-Submitted: auto-replied")?.label == "auto_reply")
        #expect(try refusal("Auto-Submitted: no") == nil)
        #expect(try refusal("Precedence: bulk")?.label == "auto_reply")
        #expect(try refusal("X-Autoreply: yes")?.label == "auto_reply")
        #expect(try refusal("Return-Path: <>")?.label == "bounce")
        #expect(try refusal("Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n\n--x--")?.label == "bounce")
        var parser = MIMEParser()
        let daemon = try parser.parse(Array("From: MAILER-DAEMON@mx.example\n\nx\n".utf8))
        #expect(InboundPolicy().refusal(daemon)?.label == "bounce")
        let strict = InboundPolicy(authservId: "mx.example.com")
        let good = try parser.parse(Array("Authentication-Results: mx.example.com; spf=pass; dkim=pass; dmarc=pass header.from=x.org\nFrom: a@x.org\n\nx\n".utf8))
        let forged = try parser.parse(Array("Authentication-Results: evil.example; dmarc=pass\nFrom: a@x.org\n\nx\n".utf8))
        let failed = try parser.parse(Array("Authentication-Results: mx.example.com; dmarc=fail\nFrom: a@x.org\n\nx\n".utf8))
        #expect(strict.refusal(good) == nil)
        #expect(strict.refusal(forged)?.label == "unauthenticated")
        #expect(strict.refusal(failed)?.label == "unauthenticated")
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    struct Missing: Error {}
    guard let f = fopen(path, "rb") else { throw Missing() }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return out
}
