import Testing
@testable import Relay

/// The IMAP poller's readings of libcurl's output (the daemon-level behaviour is in CLITests/EmailTests).
@Suite struct EmailIMAPPollerTests {
    @Test func selectAndStatusAnswers() throws {
        let select = Array("* FLAGS (\\Answered \\Seen)\r\n* 6 EXISTS\r\n* OK [UIDVALIDITY 1796462214] UIDs valid\r\n* OK [UIDNEXT 7] Predicted next UID\r\n".utf8)
        let s = try #require(EmailIMAPPoller.status(select))
        #expect(s.validity == 1_796_462_214 && s.uidNext == 7)
        let status = try #require(EmailIMAPPoller.status(Array("* STATUS INBOX (UIDNEXT 2 UIDVALIDITY 5)\r\n".utf8)))
        #expect(status.validity == 5 && status.uidNext == 2)
        #expect(EmailIMAPPoller.status(Array("* 0 EXISTS\r\n".utf8)) == nil)
    }

    @Test func searchResultsWithCRLF() {
        #expect(EmailIMAPPoller.searchResult(Array("* SEARCH 6\r\n".utf8)) == [6])
        #expect(EmailIMAPPoller.searchResult(Array("* SEARCH 3 5 9\r\n* SEARCH 10\r\n".utf8)) == [3, 5, 9, 10])
        #expect(EmailIMAPPoller.searchResult(Array("* SEARCH\r\n".utf8)).isEmpty)
    }

    @Test func urlSplitAndFolderNames() {
        #expect(EmailIMAPPoller.split("imaps://mail.example.com:993/INBOX") == ("imaps://mail.example.com:993/", "INBOX"))
        #expect(EmailIMAPPoller.split("imap://h/Replies%20In;UIDVALIDITY=3") == ("imap://h/", "Replies%20In"))
        #expect(EmailIMAPPoller.split("imap://h") == ("imap://h/", "INBOX"))
        #expect(EmailIMAPPoller.percentDecoded("Replies%20In") == "Replies In")
        #expect(EmailIMAPPoller.isValidFolder("Processed"))
        #expect(!EmailIMAPPoller.isValidFolder("a\"b") && !EmailIMAPPoller.isValidFolder("x\r\nA1 LOGOUT"))
    }
}
