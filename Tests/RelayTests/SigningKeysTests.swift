import Crypto
import Foundation
import Rules
import Testing
import TestSupport
@testable import Relay

/// Outbound webhook signing keys given as `file:` follow the file (GRAMMAR.md: file references
/// are re-read at every use): a rotated key signs the next delivery, no restart or reload.
@Suite struct SigningKeysTests {
    static let keyA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let keyB = "whsec_dGhpcyBpcyBhIHNlY29uZCBrZXkgISE="

    func signature(_ signer: StandardWebhooks.Signer?) throws -> String {
        try #require(signer).sign(id: "evt_1", timestamp: 1_700_000_000, body: Array("{}".utf8))
    }

    func expected(_ key: String) throws -> String {
        try StandardWebhooks.sign(id: "evt_1", timestamp: 1_700_000_000, body: Array("{}".utf8), secrets: [WebhookSecret(key)])
    }

    @Test func aRotatedKeyFileSignsTheNextDelivery() throws {
        let dir = try RepoPaths.temporaryDirectory("keys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/hook.key"
        try (Self.keyA + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let keys = try SigningKeys([.file(path)])
        #expect(try signature(keys.current().get()) == expected(Self.keyA))
        // Unchanged file: the same keys, not read again.
        #expect(try signature(keys.current().get()) == expected(Self.keyA) && keys.reloads == 0)
        // Rotation by rename over the file (a new inode), as secret managers do.
        try (Self.keyB + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try signature(keys.current().get()) == expected(Self.keyB))
        #expect(keys.reloads == 1)
    }

    @Test func aBrokenRotationIsRefusedNotSignedWithTheOldKey() throws {
        let dir = try RepoPaths.temporaryDirectory("keys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/hook.key"
        try Self.keyA.write(toFile: path, atomically: true, encoding: .utf8)
        let keys = try SigningKeys([.file(path)])
        try "not a key!".write(toFile: path, atomically: true, encoding: .utf8)
        guard case .failure(let e) = keys.current() else {
            Issue.record("a broken key file was accepted")
            return
        }
        #expect(e.description.contains("file:" + path) && !e.description.contains("not a key"))
        // Fixed: used from the next delivery on.
        try Self.keyB.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try signature(keys.current().get()) == expected(Self.keyB))
    }
}
