import Testing
@testable import Mojo
import WebSocket

@Suite struct ServerURLTests {
    @Test(arguments: [
        ("ws://localhost:3020", false, "localhost", 3020, "/socket.io/", "localhost:3020"),
        ("wss://messaging.mojo-institut.de", true, "messaging.mojo-institut.de", 443, "/socket.io/", "messaging.mojo-institut.de"),
        ("http://127.0.0.1:8080/custom/", false, "127.0.0.1", 8080, "/custom/", "127.0.0.1:8080"),
        ("https://[::1]:8443", true, "::1", 8443, "/socket.io/", "[::1]:8443"),
        ("HTTP://h/x?y=1", false, "h", 80, "/x/", "h"),
    ])
    func parses(url: String, secure: Bool, host: String, port: Int, path: String, hostHeader: String) throws {
        let u = try ServerURL(url)
        #expect(u.secure == secure && u.host == host && u.port == port && u.path == path && u.hostHeader == hostHeader)
    }

    @Test func buildsEngineIOTargets() throws {
        let u = try ServerURL("ws://h:1", path: "io")
        #expect(u.target(transport: "websocket") == "/io/?EIO=4&transport=websocket")
        #expect(u.httpURL(transport: "polling", sid: "a b+") == "http://h:1/io/?EIO=4&transport=polling&sid=a%20b%2B")
    }

    @Test(arguments: [
        ("localhost:3020", ServerURLError.missingScheme("localhost:3020")),
        ("ftp://h", .unsupportedScheme("ftp")),
        ("ws://user:pw@h", .credentialsInURL),
        ("ws://h:99999", .badPort("99999")),
        ("ws://:80", .badHost(":80")),
    ])
    func refuses(url: String, error: ServerURLError) {
        #expect(throws: error) { try ServerURL(url) }
    }
}

@Suite struct TokenTests {
    static func jwt(_ payload: String) -> String {
        func b64url(_ s: String) -> String {
            Base64.encode(Array(s.utf8)).replacingOccurrences("+", "-").replacingOccurrences("/", "_").replacingOccurrences("=", "")
        }
        return b64url(#"{"alg":"HS256","typ":"JWT"}"#) + "." + b64url(payload) + ".c2ln"
    }

    @Test func readsSubjectExpiryAndOrganisation() throws {
        let c = try JWTClaims(token: Self.jwt(#"{"sub":"user_1","exp":1700000000,"org_id":"org_x"}"#))
        #expect(c == JWTClaims(subject: "user_1", expiresAt: 1_700_000_000, organisation: "org_x"))
        #expect(c.secondsLeft(nowUnix: 1_699_999_990) == 10)
    }

    @Test(arguments: [
        ("abc", TokenError.malformed("a JWT has three dot-separated parts, this one has 1")),
        ("a.!!!.c", .malformed("the payload is not base64url")),
        (TokenTests.jwt("not json"), .malformed("the payload is not JSON")),
        (TokenTests.jwt(#"{"exp":1}"#), .malformed("the payload has no `sub` claim")),
        (TokenTests.jwt(#"{"sub":"u","exp":"soon"}"#), .malformed("`exp` is not a number")),
    ])
    func malformedTokensAreExplained(token: String, error: TokenError) {
        #expect(throws: error) { try JWTClaims(token: token) }
    }

    @Test func errorDescriptionsNeverContainTheToken() {
        let secret = Self.jwt(#"{"sub":"u"}"#)
        for e: TokenError in [.malformed("x"), .environmentUnset("MOJO_TOKEN"), .fileEmpty(path: "/t"), .expired(secondsAgo: 3), .commandFailed(command: "get", reason: "exit status 1")] {
            #expect(!e.description.contains(secret))
        }
    }
}

@Suite struct EventIDTests {
    @Test func identifiedEventsKeepTheirIdAcrossReplays() {
        var a = EventIDGenerator(salt: 1)
        var b = EventIDGenerator(salt: 2)
        let data = Array(#"{"message":{"id":"m1"}}"#.utf8)
        let x = data.withUnsafeBytes { a.next(tenant: "o", type: "message:new", data: $0) }
        let y = data.withUnsafeBytes { b.next(tenant: "o", type: "message:new", data: $0) }
        #expect(x == y)
        #expect(x.hasPrefix("evt_") && x.count == 36)
        let other = data.withUnsafeBytes { a.next(tenant: "o2", type: "message:new", data: $0) }
        #expect(other != x)
    }

    @Test func differentPayloadsGetDifferentIds() {
        // Every prefix and every one-byte change of a payload longer than a few hash words.
        var g = EventIDGenerator(salt: 3)
        let data = Array(#"{"message":{"id":"m1","content":"hello there, general kenobi"}}"#.utf8)
        var seen: Set<String> = []
        for end in 0...data.count {
            seen.insert(data[..<end].withUnsafeBytes { g.next(tenant: "o", type: "message:new", data: $0) })
        }
        for i in data.indices {
            var changed = data
            changed[i] ^= 0x01
            seen.insert(changed.withUnsafeBytes { g.next(tenant: "o", type: "message:new", data: $0) })
        }
        #expect(seen.count == 2 * data.count + 1)
        // The boundary between tenant and payload counts.
        let x = Array("x".utf8).withUnsafeBytes { g.next(tenant: "o", type: "message:new", data: $0) }
        let y = g.next(tenant: "ox", type: "message:new", data: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(x != y)
    }

    @Test func unidentifiedEventsAreDistinct() {
        var g = EventIDGenerator(salt: 7)
        let data = Array(#"{"userId":"u","conversationId":"c","isTyping":true}"#.utf8)
        let x = data.withUnsafeBytes { g.next(tenant: "o", type: "typing:update", data: $0) }
        let y = data.withUnsafeBytes { g.next(tenant: "o", type: "typing:update", data: $0) }
        #expect(x != y)
    }
}

extension String {
    func replacingOccurrences(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}
