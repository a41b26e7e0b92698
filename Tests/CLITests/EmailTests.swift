import Foundation
import JSON
import Testing
import TestSupport

/// The email sink end to end: MOJO -> mail (aiosmtpd, STARTTLS + AUTH) and mail -> MOJO (replies
/// polled from Dovecot over IMAP with STARTTLS, or piped into `mojo-bridge ingest-mail`).
@Suite(.serialized) struct EmailTests {
    let world = DemoWorld.shared
    static let env = ["TEST_MAIL_PASSWORD": "s3cret", "TEST_REPLY_SECRET": "reply-secret-0123456789abcdefghij"]
    static let recipient = "alice@example.org"

    struct Peers {
        let smtp: PythonPeer
        let smtpPort: Int
        let imap: PythonPeer?
        let imapPort: Int
        init(imap withIMAP: Bool = true) throws {
            let pki = try #require(ThrowawayPKI.shared)
            smtp = try PythonPeer("smtp_server.py", arguments: ["--cert", pki.certFile, "--key", pki.keyFile, "--user", "bridge", "--password", "s3cret"])
            smtpPort = try #require(try smtp.control.get("/control/info")["smtp"]?.intValue)
            if withIMAP {
                let peer = try PythonPeer("imap_server.py", arguments: ["--cert", pki.certFile, "--key", pki.keyFile, "--ca", pki.caFile,
                                                                       "--user", "bridge", "--password", "s3cret"])
                imapPort = try #require(try peer.control.get("/control/info")["imap"]?.intValue)
                imap = peer
            } else {
                imap = nil
                imapPort = 0
            }
        }
        func mails(_ count: Int, wait: Int = 15) throws -> [JSONValue] {
            try smtp.control.get("/control/mails?count=\(count)&wait=\(wait)").arrayValue ?? []
        }
        func append(_ message: String) throws {
            _ = try imap?.control.post("/control/append", ["mailbox": "INBOX", "message": .string(message)])
        }
    }

    func rules(_ peers: Peers, conversation c: String, extra: String = "") -> String {
        let ca = ThrowawayPKI.shared?.caFile ?? ""
        return """
        sink mail {
          type = email
          smtp = "smtp://localhost:\(peers.smtpPort)"
          from = "bridge@bridge.test"
          to = ["Alice <\(Self.recipient)>"]
          username = "bridge"
          password = env:TEST_MAIL_PASSWORD
          ca_file = "\(ca)"
          reply_to = "reply@bridge.test"
          reply_secret = env:TEST_REPLY_SECRET
          \(peers.imap != nil ? "imap = \"imap://localhost:\(peers.imapPort)/INBOX\"  poll_interval = 1s" : "")
          retry = [0s, 300ms, 300ms, 300ms]
          \(extra)
        }
        route r { conversation = ["\(c)"]  events = [message, read]  to = mail }

        """
    }

    /// A Gmail-shaped reply to `mail` (as received by aiosmtpd) from `from`.
    static func reply(to mail: JSONValue, from: String = recipient, text: String, to override: String? = nil, extraHeaders: String = "") -> String {
        let replyTo = override ?? (mail["headers"]?["reply-to"]?.arrayValue?.first?.stringValue ?? "")
        let address = replyTo.contains("<") ? String(replyTo.split(separator: "<").last!.dropLast()) : replyTo
        let messageId = mail["headers"]?["message-id"]?.arrayValue?.first?.stringValue ?? ""
        return """
        From: Alice <\(from)>\r
        To: <\(address)>\r
        Subject: Re: mail\r
        Message-ID: <\(UUID().uuidString)@mail.example.org>\r
        In-Reply-To: \(messageId)\r
        References: \(messageId)\r
        \(extraHeaders)MIME-Version: 1.0\r
        Content-Type: text/plain; charset="UTF-8"\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        \(text)\r
        \r
        On Sat, Dec 5, 2026 at 9:00=E2=80=AFAM Bob via MOJO <\(address)> wrote:\r
        > the original\r
        \r

        """
    }

    /// The reply address in `header` with one character of its key changed.
    static func altered(_ header: String) -> String {
        var address = Array(header.split(separator: "<").last.map { String($0.dropLast()) } ?? header)
        let at = address.firstIndex(of: "@")!
        address[at - 2] = address[at - 2] == "a" ? "b" : "a"
        return String(address)
    }

    func sends(since: Int, conversation c: String, count: Int = 1, timeout: Double = 20) throws -> [JSONValue] {
        try world.awaitClientEvents(since: since, name: "message:send", count: count, timeout: timeout) {
            $0["data"]?["conversationId"]?.stringValue == c && $0["userId"]?.stringValue == DemoWorld.bridgeUser
        }
    }

    @Test func aMessageIsMailedAndTheReplyComesBackTrimmedThroughIMAP() throws {
        let peers = try Peers()
        let c = try world.newConversation()
        let d = try Daemon(rules: rules(peers, conversation: c, extra: "html = true  max_size = 64KiB"), environment: Self.env)
        let posted = try world.post("Can you try the new build? Grüße", to: c)
        let mail = try #require(try peers.mails(1).first)
        let headers = try #require(mail["headers"])
        #expect(mail["tls"]?.boolValue == true && mail["auth"]?.stringValue == "bridge")
        #expect(mail["rcpt_tos"] == ["alice@example.org"])
        #expect(headers["auto-submitted"] == ["auto-generated"])
        #expect(headers["list-id"]?.arrayValue?.first?.stringValue?.contains(c) == true)
        #expect(mail["text"]?.stringValue?.contains("Can you try the new build? Grüße") == true)
        #expect(mail["html"]?.stringValue?.contains("Grüße") == true)
        #expect(mail["content_type"]?.stringValue == "multipart/alternative")
        #expect((mail["max_line"]?.intValue ?? 999) < 78)
        #expect(mail["defects"]?.arrayValue?.isEmpty == true)
        let replyTo = try #require(headers["reply-to"]?.arrayValue?.first?.stringValue)
        #expect(replyTo.contains("<reply+") && replyTo.hasSuffix("@bridge.test>"))
        let messageId = try #require(headers["message-id"]?.arrayValue?.first?.stringValue)
        let messageUUID = try #require(posted["id"]?.stringValue ?? posted["message"]?["id"]?.stringValue)
        #expect(messageId.contains(messageUUID))
        #expect(headers["in-reply-to"]?.arrayValue?.first?.stringValue?.hasPrefix("<c.") == true)

        let since = try world.latestEventSeq()
        // Refused or ignored first (in UID order), then the real answer.
        try peers.append(Self.reply(to: mail, text: "forged", to: Self.altered(replyTo)))
        try peers.append(Self.reply(to: mail, from: "mallory@example.org", text: "not Alice"))
        try peers.append(Self.reply(to: mail, text: "I am on holiday", extraHeaders: "Auto-Submitted: auto-replied\r\n"))
        try peers.append(Self.reply(to: mail, text: "bounce", extraHeaders: "Return-Path: <>\r\n"))
        try peers.append("From: Alice <\(Self.recipient)>\r\nTo: \(replyTo)\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n")
        try peers.append(Self.reply(to: mail, text: String(repeating: "too big ", count: 12_000)))
        try peers.append(Self.reply(to: mail, text: "Works for me, thanks!"))
        let sent = try sends(since: since, conversation: c)
        #expect(sent.count == 1)
        #expect(sent.first?["data"]?["content"]?.stringValue == "Works for me, thanks!")
        #expect(sent.first?["data"]?["replyToId"]?.stringValue == messageUUID)
        let read = try world.awaitClientEvents(since: since, name: "messages:read") { $0["data"]?["conversationId"]?.stringValue == c }
        #expect(!read.isEmpty)
        #expect(d.process.waitForStderr("reply mail refused", occurrences: 4), "\(d.process.stderr)")
        #expect(d.process.stderr.contains("over max_size"))
        #expect(d.process.stderr.contains("refusal=unknown_address reason=\"reply key does not verify"))
        #expect(d.process.stderr.contains("refusal=refused_sender"))
        #expect(d.process.stderr.contains("refusal=malformed"))
        #expect(d.process.waitForStderr("reply mail ignored", occurrences: 2))
        let flags = try #require(peers.imap?.control.get("/control/list?mailbox=INBOX").arrayValue)
        #expect(flags.count == 7 && flags.allSatisfy { $0["flags"]?.stringValue?.contains("\\Seen") == true }, "\(flags)")
        #expect(try sends(since: since, conversation: c, count: 2, timeout: 1).count == 1)
        #expect(d.stop() == 0)

        // A restart neither loses nor repeats: the cursor is past the seven mails.
        let again = try BridgeProcess(["run", "--config", d.configPath], environment: Self.env)
        try peers.append(Self.reply(to: mail, text: "After the restart."))
        let more = try sends(since: since, conversation: c, count: 2)
        #expect(more.map { $0["data"]?["content"]?.stringValue ?? "" } == ["Works for me, thanks!", "After the restart."])
        again.signal(SIGTERM)
        #expect(again.wait() == 0)
    }

    @Test func ingestMailExitCodes() throws {
        let peers = try Peers(imap: false)
        let c = try world.newConversation()
        let d = try Daemon(rules: rules(peers, conversation: c), environment: Self.env)
        try world.post("ingest me", to: c)
        let mail = try #require(try peers.mails(1).first)
        #expect(d.stop() == 0)
        func ingest(_ text: String) throws -> Int32 {
            try BridgeProcess.run(["ingest-mail", "--config", d.configPath], environment: Self.env, stdin: text).status
        }
        let since = try world.latestEventSeq()
        let valid = Self.reply(to: mail, text: "Answered by pipe.")
        #expect(try ingest(valid) == 0)
        let sent = try sends(since: since, conversation: c)
        #expect(sent.first?["data"]?["content"]?.stringValue == "Answered by pipe.")
        #expect(try ingest(valid) == 0)  // the same Message-ID again: accepted, not posted twice
        let replyTo = mail["headers"]?["reply-to"]?.arrayValue?.first?.stringValue ?? ""
        #expect(try ingest(Self.reply(to: mail, text: "forged", to: Self.altered(replyTo))) == 67)
        #expect(try ingest(Self.reply(to: mail, text: "x", to: "someone@else.test")) == 67)
        #expect(try ingest(Self.reply(to: mail, from: "mallory@example.org", text: "not Alice")) == 77)
        #expect(try ingest(Self.reply(to: mail, text: "auto", extraHeaders: "Auto-Submitted: auto-replied\r\n")) == 0)
        #expect(try ingest("no headers at all\r\n") == 65)
        let big = Self.reply(to: mail, text: String(repeating: "0123456789abcdef\r\n", count: 20 << 20 / 18))
        #expect(try ingest(big) == 65)
        #expect(try sends(since: since, conversation: c, count: 2, timeout: 1).count == 1)
    }

    @Test func serverRefusalsAreRetriedOrDeadLetteredWithTheReply() throws {
        let peers = try Peers(imap: false)
        _ = try peers.smtp.control.post("/control/script", ["replies": ["451 4.3.0 greylisted, try again", "550 5.7.1 relaying denied"]])
        let c = try world.newConversation()
        let d = try Daemon(rules: rules(peers, conversation: c), environment: Self.env)
        try world.post("first", to: c)
        #expect(d.process.waitForStderr("will retry"), "\(d.process.stderr)")
        #expect(d.process.waitForStderr("dead-lettered"), "\(d.process.stderr)")
        try world.post("second", to: c)
        let mails = try peers.mails(1)
        #expect(mails.count == 1 && mails.first?["text"]?.stringValue?.contains("second") == true)
        #expect(d.stop() == 0)
        let list = try BridgeProcess.run(["spool", "--config", d.configPath, "list", "--dead"], environment: Self.env)
        #expect(list.stderr.contains("mail: 0 pending, 1 dead"), "\(list.stderr)")
        #expect(list.stdout.contains("550") && list.stdout.contains("relaying denied"), "\(list.stdout)")
    }

    @Test func headerInjectionThroughContentIsImpossible() throws {
        let peers = try Peers(imap: false)
        let c = try world.newConversation()
        let d = try Daemon(rules: rules(peers, conversation: c, extra: "subject = \"{sender.name}: {content}\""), environment: Self.env)
        try world.post("hi\r\nBcc: victim@evil.test\r\n\r\n.\r\nRCPT TO:<victim@evil.test>", to: c)
        let mail = try #require(try peers.mails(1).first)
        #expect(mail["rcpt_tos"] == ["alice@example.org"])
        #expect(mail["headers"]?["bcc"] == nil)
        let subject = mail["headers"]?["subject"]?.arrayValue?.first?.stringValue ?? ""
        #expect(subject.contains("hi") && subject.contains("Bcc: victim@evil.test") && !subject.contains("\n"), "\(subject)")
        #expect(mail["text"]?.stringValue?.contains("RCPT TO:<victim@evil.test>") == true)
        #expect(try peers.mails(2, wait: 1).count == 1)
        #expect(d.stop() == 0)
    }

    @Test func aDisplayNameWithLineBreaksCannotInjectAHeader() throws {
        let peers = try Peers(imap: false)
        let user = "user_eve_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try world.control.post("/control/users", ["id": .string(user), "name": "Eve\r\nBcc: victim@evil.test\r\nX-Injected: yes\n\rSubject: pwned",
                                                      "tenants": [.string(DemoWorld.tenant)]])
        let c = try world.newConversation(members: [user, DemoWorld.alice, DemoWorld.bridgeUser])
        let d = try Daemon(rules: rules(peers, conversation: c), environment: Self.env)
        try world.post("hello from Eve", to: c, as: user)
        let mail = try #require(try peers.mails(1).first)
        let headers = try #require(mail["headers"]?.objectValue)
        #expect(mail["rcpt_tos"] == ["alice@example.org"])
        #expect(headers["bcc"] == nil && headers["x-injected"] == nil, "\(headers.keys)")
        #expect(headers["subject"]?.arrayValue?.count == 1)
        #expect(mail["defects"]?.arrayValue?.isEmpty == true, "\(mail)")
        // Folding (CRLF + space between the quoted name and the address) is the only line break.
        func unfolded(_ v: String) -> String { v.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: " ") }
        let from = unfolded(headers["from"]?.arrayValue?.first?.stringValue ?? "")
        #expect(from == "\"Eve  Bcc: victim@evil.test  X-Injected: yes  Subject: pwned via MOJO\" <bridge@bridge.test>", "\(from)")
        #expect(!from.contains("\r") && !from.contains("\n"), "\(from)")
        let raw = mail["raw_headers"]?["from"]?.arrayValue?.first?.stringValue ?? ""
        #expect(raw.hasPrefix("\"Eve") && raw.unicodeScalars.allSatisfy { $0.isASCII }, "\(raw)")
        let replyTo = unfolded(headers["reply-to"]?.arrayValue?.first?.stringValue ?? "")
        #expect(replyTo.contains("<reply+") && !replyTo.contains("\n"), "\(replyTo)")
        #expect(try peers.mails(2, wait: 1).count == 1)
        #expect(d.stop() == 0)
    }

    @Test func aDigestCollectsAConversationIntoOneThreadedMail() throws {
        let peers = try Peers(imap: false)
        let c = try world.newConversation()
        // digest_max flushes deterministically: the third message sends the digest.
        let d = try Daemon(rules: rules(peers, conversation: c, extra: "digest = 10m  digest_max = 3"), environment: Self.env)
        var ids: [String] = []
        for text in ["one", "two", "three"] {
            let posted = try world.post("digest \(text)", to: c)
            ids.append(posted["id"]?.stringValue ?? posted["message"]?["id"]?.stringValue ?? "")
        }
        let mail = try #require(try peers.mails(1).first)
        let headers = try #require(mail["headers"])
        let text = mail["text"]?.stringValue ?? ""
        let positions = ["digest one", "digest two", "digest three"].compactMap { text.range(of: $0)?.lowerBound }
        #expect(positions.count == 3 && positions == positions.sorted(), "\(text)")
        #expect(headers["subject"]?.arrayValue?.first?.stringValue?.hasSuffix("(3 messages)") == true)
        let messageId = headers["message-id"]?.arrayValue?.first?.stringValue ?? ""
        #expect(messageId.hasPrefix("<d.3.") && !ids.contains { !$0.isEmpty && messageId.contains($0) }, "\(messageId)")
        let root = headers["in-reply-to"]?.arrayValue?.first?.stringValue ?? ""
        #expect(root.hasPrefix("<c.") && headers["references"]?.arrayValue?.first?.stringValue?.contains(root) == true)
        #expect(headers["reply-to"]?.arrayValue?.first?.stringValue?.contains("<reply+") == true)
        #expect((mail["max_line"]?.intValue ?? 999) < 78)

        // A fourth message alone, after the digest period: its own ordinary mail, same thread.
        #expect(try reloadDigest(d, peers, c, "digest = 300ms"))
        let posted = try world.post("digest four", to: c)
        let mails = try peers.mails(2)
        #expect(mails.count == 2, "\(mails)")
        let single = try #require(mails.last?["headers"])
        let fourth = posted["id"]?.stringValue ?? posted["message"]?["id"]?.stringValue ?? "?"
        #expect(single["message-id"]?.arrayValue?.first?.stringValue?.contains(fourth) == true)
        #expect(single["in-reply-to"]?.arrayValue?.first?.stringValue == root)
        #expect(mails.last?["text"]?.stringValue?.contains("digest four") == true)
        #expect(d.stop() == 0)
    }

    func reloadDigest(_ d: Daemon, _ peers: Peers, _ c: String, _ extra: String) throws -> Bool {
        try d.reload(rules: rules(peers, conversation: c, extra: extra))
    }

    @Test func aRefusedDigestIsRetriedWholeAndTheSpoolKeepsItsMessages() throws {
        let peers = try Peers(imap: false)
        _ = try peers.smtp.control.post("/control/script", ["replies": ["451 4.3.0 greylisted, try again"]])
        let c = try world.newConversation()
        let d = try Daemon(rules: rules(peers, conversation: c, extra: "digest = 10m  digest_max = 2"), environment: Self.env)
        try world.post("retry one", to: c)
        try world.post("retry two", to: c)
        #expect(d.process.waitForStderr("will retry", occurrences: 2), "\(d.process.stderr)")
        let mails = try peers.mails(1)
        #expect(mails.count == 1)
        let text = mails.first?["text"]?.stringValue ?? ""
        #expect(text.contains("retry one") && text.contains("retry two"), "\(text)")
        #expect(try peers.smtp.control.get("/control/stats")["refused"]?.intValue == 1)
        #expect(d.process.waitForStderr("digest mailed"))
        #expect(d.stop() == 0)
        let list = try BridgeProcess.run(["spool", "--config", d.configPath, "list"], environment: Self.env)
        #expect(list.stderr.contains("mail: 0 pending, 0 dead"), "\(list.stderr)")
    }

    @Test func messagesHeldForADigestSurviveAKill() throws {
        let peers = try Peers(imap: false)
        let c = try world.newConversation()
        let d = try Daemon(rules: rules(peers, conversation: c, extra: "digest = 1h"), environment: Self.env)
        try world.post("held one", to: c)
        try world.post("held two", to: c)
        #expect(d.process.waitForStderr("held=2"), "\(d.process.stderr)")
        d.process.signal(SIGKILL)
        _ = d.process.wait()
        #expect(try peers.mails(1, wait: 0).isEmpty)
        // Restarted with a short digest: both come out of the spool, as one mail.
        let config = try String(contentsOfFile: d.configPath, encoding: .utf8).replacingOccurrences(of: "digest = 1h", with: "digest = 200ms")
        try config.write(toFile: d.configPath, atomically: true, encoding: .utf8)
        let again = try BridgeProcess(["run", "--config", d.configPath], environment: Self.env)
        let mails = try peers.mails(1)
        let text = mails.first?["text"]?.stringValue ?? ""
        #expect(mails.count == 1 && text.contains("held one") && text.contains("held two"), "\(mails)")
        #expect(mails.first?["headers"]?["subject"]?.arrayValue?.first?.stringValue?.hasSuffix("(2 messages)") == true)
        again.signal(SIGTERM)
        #expect(again.wait() == 0)
    }

    @Test func aReloadedRouteTemplateReachesTheRunningSink() throws {
        let peers = try Peers(imap: false)
        let c = try world.newConversation()
        func routed(_ template: String) -> String {
            rules(peers, conversation: c).replacingOccurrences(of: "to = mail }", with: "to = mail  template = \"\(template) {content}\" }")
        }
        let d = try Daemon(rules: routed("v1:"), environment: Self.env)
        try world.post("first", to: c)
        #expect(try peers.mails(1).first?["text"]?.stringValue?.contains("v1: first") == true)
        #expect(try d.reload(rules: routed("v2:")))
        try world.post("second", to: c)
        let mails = try peers.mails(2)
        #expect(mails.count == 2 && mails.last?["text"]?.stringValue?.contains("v2: second") == true, "\(mails)")
        #expect(d.stop() == 0)
    }

    @Test func aPartialMultiRecipientFailureDoesNotMailEarlierRecipientsAgainAfterARestart() throws {
        let peers = try Peers(imap: false)
        // Alice accepts, Bob is refused for now; the daemon is killed before the retry.
        _ = try peers.smtp.control.post("/control/script", ["replies": [nil, "451 4.2.0 mailbox busy"]])
        let c = try world.newConversation()
        let two = rules(peers, conversation: c).replacingOccurrences(of: "to = [\"Alice <\(Self.recipient)>\"]",
                                                                      with: "to = [\"Alice <\(Self.recipient)>\", \"bob@example.org\"]")
            .replacingOccurrences(of: "retry = [0s, 300ms, 300ms, 300ms]", with: "retry = [0s, 3s]")
        let d = try Daemon(rules: two, environment: Self.env)
        try world.post("to both", to: c)
        #expect(d.process.waitForStderr("will retry"), "\(d.process.stderr)")
        d.process.signal(SIGKILL)
        _ = d.process.wait()
        let again = try BridgeProcess(["run", "--config", d.configPath], environment: Self.env)
        let mails = try peers.mails(2)
        #expect(mails.map { $0["rcpt_tos"]?.arrayValue?.first?.stringValue ?? "" } == ["alice@example.org", "bob@example.org"], "\(mails)")
        #expect(again.waitForStderr("mail accepted"))
        #expect(try peers.mails(3, wait: 1).count == 2)
        again.signal(SIGTERM)
        #expect(again.wait() == 0)
    }
}
