import Foundation
import Testing
import TestSupport
@testable import Relay

/// The email sink's small durable files: the Message-IDs shared by the daemon and `ingest-mail`,
/// and the recipients that accepted a mail while its event is still spooled.
@Suite struct EmailStateFilesTests {
    @Test func twoWritersOfTheSeenFileKeepEachOthersIds() throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-mail-state")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = EmailStateFiles(spoolDirectory: dir, sink: "mail")
        let daemon = EmailSeenSet(files: files)
        let ingest = EmailSeenSet(files: files)
        daemon.insert("<a@x>")
        ingest.insert("<b@x>")   // before the merge, this rewrite dropped <a@x>
        daemon.insert("<c@x>")   // ...and this one dropped <b@x>
        #expect(daemon.contains("<b@x>"))
        #expect(ingest.contains("<a@x>") && ingest.contains("<c@x>"))
        #expect(Set(files.loadSeen()) == ["<a@x>", "<b@x>", "<c@x>"])
        #expect(EmailSeenSet(files: files).contains("<b@x>"))
    }

    @Test func acceptedRecipientsSurviveARestartUntilTheEventLeaves() throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-mail-state")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = EmailStateFiles(spoolDirectory: dir, sink: "mail")
        do {
            let log = EmailAcceptedLog(files: files)
            log.record(["ev1", "ev2"], recipient: "alice@example.org")
            log.record(["ev3"], recipient: "alice@example.org")
            log.forget(["ev3"])
            #expect(log.contains("ev1", recipient: "alice@example.org"))
            #expect(!log.contains("ev1", recipient: "bob@example.org"))
        }
        let again = EmailAcceptedLog(files: files)
        #expect(again.contains("ev1", recipient: "alice@example.org") && again.contains("ev2", recipient: "alice@example.org"))
        #expect(!again.contains("ev3", recipient: "alice@example.org"))
        // Many events come and go: the file is compacted, the live entries stay.
        for i in 0..<2000 {
            again.record(["e\(i)"], recipient: "bob@example.org")
            again.forget(["e\(i)"])
        }
        let size = (try FileManager.default.attributesOfItem(atPath: dir + "/.mail/mail.sent")[.size] as? Int) ?? 0
        #expect(size < 40_000, "\(size)")
        #expect(EmailAcceptedLog(files: files).contains("ev2", recipient: "alice@example.org"))
    }
}
