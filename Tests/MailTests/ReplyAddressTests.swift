import Testing
@testable import Mail

/// A stand-in keyed function (the real one is HMAC-SHA256 from Crypto): enough to test the codec.
func fakeMAC(_ key: String) -> ReplyAddressCodec.MAC {
    { message in
        var out: [UInt8] = []
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for round in 0..<4 {
            for b in Array(key.utf8) + [UInt8(round)] + message {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: h >> (8 * UInt64(i)))) }
        }
        return out
    }
}

@Suite struct ReplyAddressTests {
    let conversation = "11111111-2222-3333-4444-555555555555"

    @Test func roundTripAndBinding() throws {
        let codec = ReplyAddressCodec(local: "reply", domain: "Bridge.Example.com", signers: [fakeMAC("k1")])
        let address = codec.address(tenant: "acme", conversation: conversation, recipient: "Alice@Example.org")
        #expect(address.hasPrefix("reply+u"))
        #expect(address.hasSuffix("@bridge.example.com"))
        #expect(MailAddress.isValid(address))
        #expect(address.split(separator: "@")[0].count <= 64)
        let claim = try #require(codec.claim(in: "<" + address.uppercased() + ">"))
        #expect(claim.conversation == conversation)
        #expect(claim.tag.count * 8 >= 80)
        #expect(codec.verify(claim, tenant: "acme", recipient: "alice@example.org"))
        #expect(!codec.verify(claim, tenant: "other", recipient: "alice@example.org"))
        #expect(!codec.verify(claim, tenant: "acme", recipient: "mallory@example.org"))
    }

    @Test func alteredOrForgedKeysFail() throws {
        let codec = ReplyAddressCodec(local: "reply", domain: "b.example", signers: [fakeMAC("k1")])
        let address = codec.address(tenant: "acme", conversation: conversation, recipient: "a@x.org")
        // Another conversation with the same key.
        let other = codec.address(tenant: "acme", conversation: "99999999-2222-3333-4444-555555555555", recipient: "a@x.org")
        let swapped = String(other.prefix(while: { $0 != "." })) + String(address.drop(while: { $0 != "." }))
        let claim = try #require(codec.claim(in: swapped))
        #expect(!codec.verify(claim, tenant: "acme", recipient: "a@x.org"))
        // One character of the key changed.
        var chars = Array(address)
        let at = chars.firstIndex(of: "@")!
        chars[at - 1] = chars[at - 1] == "a" ? "b" : "a"
        if let altered = codec.claim(in: String(chars)) { #expect(!codec.verify(altered, tenant: "acme", recipient: "a@x.org")) }
        // Not ours at all.
        #expect(codec.claim(in: "reply@b.example") == nil)
        #expect(codec.claim(in: "other+" + address.dropFirst(6)) == nil)
        #expect(codec.claim(in: address.replacingDomain("evil.example")) == nil)
        #expect(codec.claim(in: "reply+u0000.aaaa@b.example") == nil)
    }

    @Test func rotationFirstSignsAllVerify() throws {
        let old = ReplyAddressCodec(local: "reply", domain: "b.example", signers: [fakeMAC("old")])
        let rotated = ReplyAddressCodec(local: "reply", domain: "b.example", signers: [fakeMAC("new"), fakeMAC("old")])
        let retired = ReplyAddressCodec(local: "reply", domain: "b.example", signers: [fakeMAC("new")])
        let issued = old.address(tenant: "t", conversation: "conv 7", recipient: "a@x.org")
        let claim = try #require(rotated.claim(in: issued))
        #expect(claim.conversation == "conv 7")
        #expect(rotated.verify(claim, tenant: "t", recipient: "a@x.org"))
        #expect(!retired.verify(claim, tenant: "t", recipient: "a@x.org"))
        #expect(rotated.address(tenant: "t", conversation: "conv 7", recipient: "a@x.org") == retired.address(tenant: "t", conversation: "conv 7", recipient: "a@x.org"))
    }
}

extension String {
    func replacingDomain(_ d: String) -> String { String(prefix(while: { $0 != "@" })) + "@" + d }
}
