import Testing
@testable import WebSocket

@Suite struct SHA1AndBase64Tests {
    func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    @Test func sha1Vectors() {
        // FIPS 180 / RFC 3174 test vectors.
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
            == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        let repeated = [UInt8](repeating: 0, count: 10).flatMap { _ in Array("0123456701234567012345670123456701234567012345670123456701234567".utf8) }
        #expect(hex(SHA1.hash(repeated)) == "dea356a2cddd90c7a7ecedc5ebb563934f460452")
    }

    @Test func base64Vectors() {
        // RFC 4648 §10.
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        let bytes = pseudoRandomBytes(1000, seed: 42)
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
    }

    @Test(arguments: ["Zg", "Zg=", "Z===", "Zh==", "Zm9=", "=Zm9", "Zm9v!A==", "Zg==Zg==", "Zm 9v"])
    func base64Rejects(input: String) {
        #expect(Base64.decode(input) == nil)
    }

    /// RFC 6455 §1.3: the accept value for the sample nonce (checked against `sha1sum | base64`).
    @Test func rfc6455AcceptExample() throws {
        let key = try #require(Base64.decode("dGhlIHNhbXBsZSBub25jZQ=="))
        let request = try WebSocketHandshakeRequest(host: "server.example.com", path: "/chat", key: key)
        #expect(request.secKey == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(request.expectedAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}

@Suite struct HandshakeTests {
    static let key = Base64.decode("dGhlIHNhbXBsZSBub25jZQ==") ?? []
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    static func response(_ extra: String = "", status: String = "101 Switching Protocols") -> [UInt8] {
        Array("HTTP/1.1 \(status)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\(extra)\r\n".utf8)
    }

    func parseHead(_ bytes: [UInt8], feeding: Feeding) throws(WebSocketHandshakeError) -> (head: HTTPResponseHead, remainder: [UInt8])? {
        var parser = HTTPResponseHeadParser()
        let step = feeding == .whole ? max(1, bytes.count) : (feeding == .dripFeed ? 1 : 7)
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + step)
            if let result = try parser.append(Array(bytes[index..<end])) {
                // Bytes not yet handed to the parser also follow the head.
                return (result.head, result.remainder + bytes[end...])
            }
            index = end
        }
        return nil
    }

    @Test func encodedRequest() throws {
        let request = try WebSocketHandshakeRequest(
            host: "example.com:8443", path: "/socket.io/?EIO=4&transport=websocket", key: Self.key,
            origin: "https://example.com", extraHeaders: [("Authorization", "Bearer x")])
        let text = String(decoding: request.encoded(), as: UTF8.self)
        #expect(text == "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: example.com:8443\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Origin: https://example.com\r\nAuthorization: Bearer x\r\n\r\n")
    }

    @Test func requestRejectsInjection() {
        func reject(_ make: () throws(WebSocketHandshakeError) -> WebSocketHandshakeRequest) -> Bool {
            do { _ = try make(); return false } catch { if case .invalidRequest = error { return true }; return false }
        }
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a\r\nX: y", path: "/", key: Self.key) })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "", path: "/", key: Self.key) })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "/ HTTP/1.0\r\n", key: Self.key) })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "nopath", key: Self.key) })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "/", key: [1, 2, 3]) })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "/", key: Self.key, origin: "o\n") })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "/", key: Self.key, extraHeaders: [("X", "a\rb")]) })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "/", key: Self.key, extraHeaders: [("X: y", "v")]) })
        #expect(reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "/", key: Self.key, extraHeaders: [("", "v")]) })
        #expect(!reject { () throws(WebSocketHandshakeError) in try WebSocketHandshakeRequest(host: "a", path: "/", key: Self.key, extraHeaders: [("X", "")]) })
    }

    @Test(arguments: Feeding.allCases)
    func responseHeadWithFramesBehind(feeding: Feeding) throws {
        let frames = WebSocketFrameParserTests.unmaskedHello + WebSocketFrameParserTests.ping
        let result = try #require(try parseHead(Self.response("X-Multi: a\r\nx-multi:  b \r\n") + frames, feeding: feeding))
        #expect(result.head.status == 101)
        #expect(result.head.reason == "Switching Protocols")
        #expect(result.head.header("upgrade") == "websocket")
        #expect(result.head.header("X-MULTI") == "a, b")
        #expect(result.head.header("Missing") == nil)
        #expect(result.remainder == frames)
        let (parsed, _) = try parseFrames(result.remainder, feeding: .whole)
        #expect(parsed.count == 2)
    }

    @Test func parserStartsOverAfterAHead() throws {
        var parser = HTTPResponseHeadParser()
        #expect(try parser.append(Self.response()) != nil)
        #expect(try parser.append(Array("HTTP/1.1 200".utf8)) == nil)
        let second = try #require(try parser.append(Array("\r\n\r\n".utf8)))
        #expect(second.head == HTTPResponseHead(status: 200, reason: "", headers: []))
    }

    @Test(arguments: [
        "HTTP/2 101 OK\r\n\r\n", "HTTP/1.1 1x1 OK\r\n\r\n", "HTTP/1.1 101\tOK\r\n\r\n", "HTTP/1.1 10\r\n\r\n",
        "HTTP/1.1 101 OK\r\nNoColon\r\n\r\n", "HTTP/1.1 101 OK\r\n: empty\r\n\r\n", "HTTP/1.1 101 OK\r\nA: b\r\n folded\r\n\r\n",
        "HTTP/1.1 101 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 101 OK\nA: b\r\n\r\n", "HTTP/1.1 101 OK\rA: b\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
    ])
    func malformedHeads(text: String) {
        for feeding in Feeding.allCases {
            #expect(throws: WebSocketHandshakeError.self) { try parseHead(Array(text.utf8), feeding: feeding) }
        }
    }

    @Test func headSizeLimit() throws {
        var parser = HTTPResponseHeadParser(maxHeadSize: 64)
        #expect(throws: WebSocketHandshakeError.headTooLarge) {
            for _ in 0..<10 { _ = try parser.append(Array("X-Pad: 0123456789\r\n".utf8)) }
        }
        // Complete in one chunk, but still too long.
        var whole = HTTPResponseHeadParser(maxHeadSize: 64)
        #expect(throws: WebSocketHandshakeError.headTooLarge) {
            _ = try whole.append(Self.response("X-Pad: 0123456789012345678901234567890123456789\r\n"))
        }
        var fits = HTTPResponseHeadParser(maxHeadSize: 19)
        #expect(try fits.append(Array("HTTP/1.1 101 OK\r\n\r\n".utf8)) != nil)
    }

    func validation(_ bytes: [UInt8], extraHeaders: [(String, String)] = []) throws -> WebSocketHandshakeError? {
        let request = try WebSocketHandshakeRequest(host: "h", path: "/", key: Self.key, extraHeaders: extraHeaders)
        let head = try #require(try parseHead(bytes, feeding: .whole)).head
        do { try request.validate(head); return nil } catch { return error }
    }

    @Test func validResponses() throws {
        #expect(try validation(Self.response()) == nil)
        let lenient = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\nsec-websocket-accept: \(Self.accept)\r\n\r\n"
        #expect(try validation(Array(lenient.utf8)) == nil)
        #expect(try validation(Self.response("Sec-WebSocket-Protocol: chat\r\n"), extraHeaders: [("Sec-WebSocket-Protocol", "superchat, chat")]) == nil)
        #expect(try validation(Self.response("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"),
                               extraHeaders: [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]) == nil)
    }

    @Test func invalidResponses() throws {
        #expect(try validation(Self.response(status: "200 OK")) == .unexpectedStatus(200, "OK"))
        #expect(try validation(Array("HTTP/1.1 101 S\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(Self.accept)\r\n\r\n".utf8)) == .missingUpgrade)
        #expect(try validation(Array("HTTP/1.1 101 S\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n".utf8)) == .missingUpgrade)
        #expect(try validation(Array("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: \(Self.accept)\r\n\r\n".utf8)) == .missingConnection)
        #expect(try validation(Array("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n".utf8)) == .missingConnection)
        #expect(try validation(Array("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n".utf8)) == .badAccept)
        #expect(try validation(Array("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kgYAoQ06KeDCa4=\r\n\r\n".utf8)) == .badAccept)
        // Exact match: the unpadded form is refused.
        #expect(try validation(Array("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n".utf8)) == .badAccept)
        #expect(try validation(Self.response("Sec-WebSocket-Extensions: permessage-deflate\r\n")) == .unsupportedExtension("permessage-deflate"))
        #expect(try validation(Self.response("Sec-WebSocket-Protocol: chat\r\n")) == .unsupportedProtocol("chat"))
        #expect(try validation(Self.response("Sec-WebSocket-Protocol: chat, superchat\r\n"), extraHeaders: [("Sec-WebSocket-Protocol", "superchat, chat")])
            == .unsupportedProtocol("chat, superchat"))
    }

    @Test func errorDescriptions() {
        let errors: [WebSocketHandshakeError] = [
            .malformedResponse("x"), .headTooLarge, .unexpectedStatus(404, "Not Found"), .missingUpgrade, .missingConnection,
            .badAccept, .unsupportedExtension("e"), .unsupportedProtocol("p"), .invalidRequest("host"),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
        #expect(WebSocketHandshakeError.unexpectedStatus(404, "Not Found").description.contains("404"))
    }
}
