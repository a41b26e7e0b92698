import Testing
import WebSocket
@testable import Crypto

@Suite struct StandardWebhooksTests {
    let secret: WebhookSecret
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let timestamp: Int64 = 1_614_265_330
    let body = Array(#"{"test": 2432232314}"#.utf8)
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    init() throws {
        secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    }

    @Test func officialTestVector() throws {
        #expect(try StandardWebhooks.sign(id: id, timestamp: timestamp, body: body, secrets: [secret]) == expected)
        #expect(StandardWebhooks.verify(id: id, timestamp: timestamp, body: body, signatureHeader: expected,
                                        secrets: [secret], now: timestamp + 10).isSuccess)
    }

    @Test func rotationSignsWithEverySecretAndVerifiesWithAny() throws {
        let other = try WebhookSecret.generate()
        let header = try StandardWebhooks.sign(id: id, timestamp: timestamp, body: body, secrets: [other, secret])
        let parts = header.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[1] == expected)
        #expect(StandardWebhooks.verify(id: id, timestamp: timestamp, body: body, signatureHeader: header,
                                        secrets: [secret], now: timestamp).isSuccess)
        // A receiver that knows only the new key, sender still on the old one plus unknown versions.
        #expect(StandardWebhooks.verify(id: id, timestamp: timestamp, body: body, signatureHeader: "v2,abc " + expected,
                                        secrets: [other, secret], now: timestamp).isSuccess)
        let headers = try StandardWebhooks.headers(id: id, timestamp: timestamp, body: body, secrets: [secret])
        #expect(headers.map(\.value) == [id, "1614265330", expected])
    }

    @Test func refusals() throws {
        func verify(_ header: String, now: Int64? = nil, body: [UInt8]? = nil, secrets: [WebhookSecret]? = nil) -> WebhookVerificationError? {
            switch StandardWebhooks.verify(id: id, timestamp: timestamp, body: body ?? self.body, signatureHeader: header,
                                           secrets: secrets ?? [secret], now: now ?? timestamp) {
            case .success: return nil
            case .failure(let error): return error
            }
        }
        #expect(verify(expected, body: Array(#"{"test": 2432232315}"#.utf8)) == .noMatchingSignature)
        #expect(verify(expected, now: timestamp + 301) == .timestampTooOld)
        #expect(verify(expected, now: timestamp + 300) == nil)
        #expect(verify(expected, now: timestamp - 301) == .timestampInFuture)
        #expect(verify(expected, now: .max) == .timestampTooOld)
        #expect(verify("") == .malformedSignatureHeader)
        #expect(verify("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") == .malformedSignatureHeader)
        #expect(verify("v1,not*base64") == .noMatchingSignature)
        #expect(verify("v1a," + expected.dropFirst(3)) == .noMatchingSignature)
        #expect(verify(String(expected.dropLast(2)) + "A=") == .noMatchingSignature)
        #expect(verify(expected, secrets: []) == .noSecrets)
        #expect(verify(expected, secrets: [try WebhookSecret.generate()]) == .noMatchingSignature)
    }

    @Test func secretParsing() throws {
        let bare = try WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
        #expect(bare == secret)
        #expect(secret.encoded == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect("\(secret)" == "whsec_[redacted]")
        #expect(String(reflecting: secret) == "whsec_[redacted]")
        #expect(!"\(secret)".contains("MfKQ"))
        // Unpadded base64 is accepted.
        let unpadded = try WebhookSecret("whsec_" + String(Base64.encode(Array(repeating: 7, count: 17)).prefix { $0 != "=" }))
        #expect(unpadded.key == Array(repeating: 7, count: 17))
        #expect(throws: WebhookSecretError.empty) { try WebhookSecret("whsec_") }
        #expect(throws: WebhookSecretError.empty) { try WebhookSecret("  ") }
        #expect(throws: WebhookSecretError.notBase64) { try WebhookSecret("whsec_???") }
        #expect(throws: WebhookSecretError.notBase64) { try WebhookSecret("whsec_abcde") }
        #expect(throws: WebhookSecretError.tooShort(bytes: 3)) { try WebhookSecret("whsec_AAAA") }
        #expect(!WebhookSecretError.tooShort(bytes: 3).description.isEmpty)
        let generated = try WebhookSecret.generate()
        #expect(try WebhookSecret(generated.encoded) == generated)
    }

    @Test func timestampParsing() {
        #expect(StandardWebhooks.parseTimestamp("1614265330") == 1_614_265_330)
        #expect(StandardWebhooks.parseTimestamp("") == nil)
        #expect(StandardWebhooks.parseTimestamp("-5") == nil)
        #expect(StandardWebhooks.parseTimestamp("12a") == nil)
        #expect(StandardWebhooks.parseTimestamp(String(repeating: "9", count: 30)) == nil)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
