import Testing
@testable import Crypto

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func unhex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        out.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return out
}

@Suite struct PrimitivesTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256FIPSVectors(input: String, digest: String) throws {
        #expect(hex(try SHA256.hash(Array(input.utf8))) == digest)
    }

    @Test func sha256MillionA() throws {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(hex(try SHA256.hash(input)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// RFC 4231 §4.2-4.8 (test case 5 is truncated to 128 bits).
    @Test(arguments: [
        (String(repeating: "0b", count: 20), hex(Array("Hi There".utf8)),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (hex(Array("Jefe".utf8)), hex(Array("what do ya want for nothing?".utf8)),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 20), String(repeating: "dd", count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ("0102030405060708090a0b0c0d0e0f10111213141516171819", String(repeating: "cd", count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (String(repeating: "0c", count: 20), hex(Array("Test With Truncation".utf8)),
         "a3b6167473100ee06e0c796c2955552b"),
        (String(repeating: "aa", count: 131), hex(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (String(repeating: "aa", count: 131), hex(Array(("This is a test using a larger than block-size key and a larger t"
            + "han block-size data. The key needs to be hashed before being used by the HMAC algorithm.").utf8)),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func hmacRFC4231(key: String, data: String, mac: String) throws {
        let computed = try HMAC.sha256(key: unhex(key), data: unhex(data))
        #expect(computed.count == 32)
        #expect(hex(computed).hasPrefix(mac))
        // The prepared key gives the same MAC, however the message is split, and stays usable.
        let prepared = try HMACSHA256Key(key: unhex(key))
        let message = unhex(data)
        for split in [0, 1, message.count / 2, message.count] {
            let head = Array(message[..<split]), tail = Array(message[split...])
            let mac2 = try head.withUnsafeBytes { h in try tail.withUnsafeBytes { t in try prepared.authenticate(h, t) } }
            #expect(hex(mac2).hasPrefix(mac), "split at \(split)")
        }
    }

    @Test func hmacBufferVariantAndEmptyInputs() throws {
        let key = Array("key".utf8)
        let data = Array("The quick brown fox jumps over the lazy dog".utf8)
        let viaBuffers = try key.withUnsafeBytes { k in try data.withUnsafeBytes { d in try HMAC.sha256(key: k, data: d) } }
        #expect(hex(viaBuffers) == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        #expect(hex(try HMAC.sha256(key: [], data: [])) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test func secureRandomGivesFreshBytes() throws {
        let a = try SecureRandom.bytes(32)
        let b = try SecureRandom.bytes(32)
        #expect(a.count == 32)
        #expect(a != b)
        #expect(try SecureRandom.bytes(0).isEmpty)
        #expect(Set(try SecureRandom.bytes(4096)).count > 200)
    }

    @Test func constantTimeEquals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equals([], [0]))
        #expect(ConstantTime.equals([], []))
    }
}
