import Glibc
import JSON
import Testing
@testable import Curl
import TestSupport
import Transport

/// SMTP submissions through libcurl against aiosmtpd (Tests/Peers/smtp_server.py): STARTTLS
/// required, AUTH, scripted refusals, one connection for a run of mails.
@Suite(.serialized) struct SMTPTransferTests {
    struct Server {
        let peer: PythonPeer
        let smtp: Int
        init(plain: Bool = false) throws {
            let pki = try #require(ThrowawayPKI.shared)
            peer = try PythonPeer("smtp_server.py", arguments: ["--cert", pki.certFile, "--key", pki.keyFile]
                                  + (plain ? ["--plain"] : ["--user", "bridge", "--password", "s3cret"]))
            smtp = try #require(try peer.control.get("/control/info")["smtp"]?.intValue)
        }
        func mails(_ count: Int, wait: Int = 10) throws -> [JSONValue] {
            try peer.control.get("/control/mails?count=\(count)&wait=\(wait)").arrayValue ?? []
        }
    }

    func request(_ server: Server, password: String = "s3cret", subject: String = "hi") -> MailTransferRequest {
        var r = MailTransferRequest(url: "smtp://localhost:\(server.smtp)")
        r.username = "bridge"
        r.password = password
        r.caFile = ThrowawayPKI.shared?.caFile
        r.mailFrom = "bridge@example.com"
        r.recipients = ["alice@example.org"]
        r.upload = Array("From: bridge@example.com\r\nTo: alice@example.org\r\nSubject: \(subject)\r\n\r\nline one\r\n.\r\n..two\r\n".utf8)
        r.timeoutMs = 10_000
        return r
    }

    /// Sends the requests one after the other (each after the previous completed) on one CurlMulti.
    func sendInSequence(_ requests: [MailTransferRequest]) throws -> [MailTransferResult] {
        let loop = try EventLoop()
        let curl = CurlMulti(loop: loop)
        var results: [MailTransferResult] = []
        func next() {
            guard results.count < requests.count else { return loop.stop() }
            curl.perform(mail: requests[results.count]) { r in
                results.append(r)
                next()
            }
        }
        next()
        let safety = loop.schedule(afterMilliseconds: 30_000) { loop.stop() }
        try loop.run()
        loop.cancel(safety)
        return results
    }

    @Test func starttlsAuthAndOneConnectionForSeveralMails() throws {
        let server = try Server()
        let results = try sendInSequence((0..<3).map { request(server, subject: "mail \($0)") })
        #expect(results.count == 3)
        #expect(results.allSatisfy { $0.succeeded }, "\(results.map(\.error))")
        #expect(results.first?.replyCode == 250)
        let mails = try server.mails(3)
        #expect(mails.count == 3)
        #expect(mails.allSatisfy { $0["tls"]?.boolValue == true && $0["auth"]?.stringValue == "bridge" }, "\(mails.first?["tls"] ?? .null) \(mails.first?["auth"] ?? .null)")
        #expect(mails.first?["rcpt_tos"]?.arrayValue?.first?.stringValue == "alice@example.org")
        // libcurl dot-stuffs: the body arrives as sent.
        #expect(mails.first?["text"]?.stringValue == "line one\r\n.\r\n..two\r\n" || mails.first?["text"]?.stringValue == "line one\n.\n..two\n")
        #expect(try server.peer.control.get("/control/stats")["sessions"]?.intValue == 1)
    }

    @Test func refusalsCarryTheServerReply() throws {
        let server = try Server()
        _ = try server.peer.control.post("/control/script", ["replies": ["451 4.3.0 try again later", "550 5.7.1 not welcome here"]])
        let results = try sendInSequence([request(server), request(server), request(server)])
        #expect(results.count == 3)
        #expect(results[0].replyCode == 451 && !results[0].succeeded)
        #expect(results[0].serverReply.contains("try again later"), "\(results[0].lines)")
        #expect(results[1].replyCode == 550 && results[1].serverReply.contains("not welcome here"))
        #expect(results[2].succeeded)
    }

    @Test func noStarttlsOfferedFailsUnlessClearIsAllowed() throws {
        let server = try Server(plain: true)
        var strict = request(server)
        strict.username = nil
        strict.password = nil
        var clear = strict
        clear.requireTLS = false
        let results = try sendInSequence([strict, clear])
        #expect(results.count == 2)
        #expect(results[0].curlCode == 64, "\(results[0].error)")  // CURLE_USE_SSL_FAILED
        #expect(try server.mails(1).first?["tls"]?.boolValue == false)
        #expect(results[1].succeeded)
    }

    @Test func wrongPasswordIsALoginFailure() throws {
        let server = try Server()
        let results = try sendInSequence([request(server, password: "wrong")])
        #expect(results.first?.curlCode == 67, "\(results.first?.error ?? "") \(results.first?.lines ?? [])")  // CURLE_LOGIN_DENIED
        #expect(results.first?.replyCode == 535)
    }

    @Test func injectionInArgumentsIsRefusedBeforeTheNetwork() throws {
        let server = try Server()
        var r = request(server)
        r.recipients = ["a@b.c>\r\nRCPT TO:<victim@x.y"]
        let results = try sendInSequence([r])
        #expect(results.first?.error.contains("CR, LF or NUL") == true)
        #expect(try server.mails(1, wait: 0).isEmpty)
    }
}
