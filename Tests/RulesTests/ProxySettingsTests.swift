import Testing
@testable import Rules

/// `server { proxy  no_proxy  proxy_auth }` (issue 16, item 7: proxies in the configuration).
@Suite struct ProxySettingsTests {
    func load(_ server: String, variables: [String: String] = Fixtures.variables) -> (BridgeConfig?, [String]) {
        let text = "server { url = \"wss://mojo.example\"  \(server) }\ntenant org_demo { token = env:MOJO_TOKEN }\n"
        switch Fixtures.load(text, variables: variables) {
        case .success(let c): return (c, [])
        case .failure(let e): return (nil, e.map(\.description))
        }
    }

    @Test func theKeysAreRead() throws {
        let (c, errors) = load("proxy = \"http://proxy.internal:3128\"  no_proxy = [\"localhost\", \".corp\"]  proxy_auth = env:PROXY_AUTH",
                               variables: Fixtures.variables.merging(["PROXY_AUTH": "u:p"]) { a, _ in a })
        #expect(errors.isEmpty, "\(errors)")
        #expect(c?.server.proxy == "http://proxy.internal:3128")
        #expect(c?.server.noProxy == ["localhost", ".corp"])
        #expect(c?.server.proxyAuth == .env("PROXY_AUTH"))
        let (direct, e2) = load("proxy = \"direct\"")
        #expect(e2.isEmpty && direct?.server.proxy == "direct", "\(e2)")
        let (none, e3) = load("")
        #expect(e3.isEmpty && none?.server.proxy == nil && none?.server.noProxy == nil && none?.server.proxyAuth == nil)
    }

    @Test(arguments: [
        ("proxy = \"https://proxy:3128\"", "`proxy` must be an http:// URL or \"direct\""),
        ("proxy = \"socks5://proxy:1080\"", "`proxy` must be an http:// URL or \"direct\""),
        ("proxy = \"http://user:pw@proxy:3128\"", "`proxy` must not carry credentials"),
        ("proxy = \"http://\"", "`proxy` has no host and port"),
        ("proxy_auth = env:MOJO_TOKEN", "`proxy_auth` needs `proxy` in the same block"),
        ("proxy = \"http://proxy:3128\"  proxy_auth = \"user:pw\"", "`proxy_auth` must not be written in the file"),
        ("proxy = \"http://proxy:3128\"  proxy_auth = env:UNSET_PROXY_AUTH", "UNSET_PROXY_AUTH"),
    ])
    func badSettingsAreRefusedWithTheirPlace(setting: String, message: String) {
        let (_, errors) = load(setting)
        #expect(errors.contains { $0.hasPrefix("/etc/mb/bridge.conf:1:") && $0.contains(message) }, "\(errors)")
    }
}
