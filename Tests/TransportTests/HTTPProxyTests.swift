import Testing
@testable import Transport

/// Proxy URLs, NO_PROXY matching and the CONNECT request.
@Suite struct HTTPProxyTests {
    @Test func parsesProxyURLs() throws {
        let p = try #require(HTTPProxy(url: "http://user:p%40ss@proxy.example:3128/"))
        #expect(p.host == "proxy.example" && p.port == 3128)
        #expect(p.description == "http://proxy.example:3128")
        #expect(p.authorization == "Basic " + HTTPProxy.base64(Array("user:p@ss".utf8)))
        #expect(HTTPProxy(url: "proxy:8080")?.port == 8080)
        #expect(HTTPProxy(url: "http://proxy")?.port == 80)
        #expect(HTTPProxy(url: "http://[::1]:3128")?.host == "::1")
        #expect(HTTPProxy(url: "socks5://proxy:1080") == nil)
        #expect(HTTPProxy(url: "http://proxy:notaport") == nil)
    }

    @Test func noProxyMatchesNamesDomainsAndAddresses() {
        #expect(HTTPProxy.bypasses(host: "api.example.com", noProxy: "example.com"))
        #expect(HTTPProxy.bypasses(host: "api.example.com", noProxy: "localhost, .example.com"))
        #expect(HTTPProxy.bypasses(host: "example.com", noProxy: ".example.com"))
        #expect(!HTTPProxy.bypasses(host: "badexample.com", noProxy: "example.com"))
        #expect(HTTPProxy.bypasses(host: "127.0.0.1", noProxy: "127.0.0.1:8080"))
        #expect(HTTPProxy.bypasses(host: "anything", noProxy: "*"))
        #expect(HTTPProxy.bypasses(host: "::1", noProxy: "[::1]"))
    }

    @Test func theConnectRequestNamesTheTargetAndCarriesCredentials() throws {
        let p = try #require(HTTPProxy(url: "http://u:p@proxy:3128"))
        let text = String(decoding: p.connectRequest(host: "mojo.example", port: 443), as: UTF8.self)
        #expect(text == "CONNECT mojo.example:443 HTTP/1.1\r\nHost: mojo.example:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n")
        #expect(HTTPProxy.base64(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw==")
    }
}
