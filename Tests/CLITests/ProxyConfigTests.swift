#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport

/// Proxies from the configuration (`server { proxy  no_proxy  proxy_auth }`) through a real
/// tinyproxy with Basic authentication: they win over the environment for every transport.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tinyproxy")))
struct ProxyConfigTests {
    let world = DemoWorld.shared
    var devPort: String { String(world.url.split(separator: ":").last ?? "") }
    static let password = "pr0xy-Pw-\(UUID().uuidString.prefix(8))"

    /// A `run` config for the demo tenant with `serverExtra` in its server block and `rules`.
    func start(_ serverExtra: String, rules: String = "", environment: [String: String] = [:]) throws -> (BridgeProcess, String) {
        let dir = try RepoPaths.temporaryDirectory("mojo-proxyconf")
        let serverExtra = serverExtra.replacingOccurrences(of: "PROXYDIR", with: dir)
        try "mojo:\(Self.password)\n".write(toFile: dir + "/proxy-auth", atomically: true, encoding: .utf8)
        try """
            server { url = "\(world.url)"  transport = websocket  \(serverExtra) }
            tenant org_demo { token = file:\(try world.tokenFile()) }
            spool { dir = "\(dir)/spool" }
            \(rules)
            """.write(toFile: dir + "/bridge.conf", atomically: true, encoding: .utf8)
        return (try BridgeProcess(["run", "--config", dir + "/bridge.conf", "--log-level", "debug"], environment: environment), dir)
    }

    @Test func theConfiguredProxyWithCredentialsCarriesTheSessionAndTheWebhooks() throws {
        let proxy = try TinyProxy(extraConfig: "BasicAuth mojo \(Self.password)\n")
        let c = try world.newConversation()
        let receiver = try PythonPeer("webhook_receiver.py")
        let (p, dir) = try start("proxy = \"http://127.0.0.1:\(proxy.port)\"  proxy_auth = file:PROXYDIR/proxy-auth", rules: """
            sink ok { type = webhook  url = "http://127.0.0.1:\(receiver.port)/in"  allow_private = true }
            route r { conversation = ["\(c)"]  to = ok }
            """)
        _ = dir
        defer { p.signal(SIGTERM); _ = p.wait(timeout: 20) }
        #expect(p.waitForStderr("msg=connected", timeout: 20), "\(p.stderr)\n\(proxy.log)")
        #expect(proxy.awaitLog("CONNECT 127.0.0.1:\(devPort)"), "\(proxy.log)")
        try world.post("via the configured proxy", to: c)
        let got = try receiver.control.get("/control/deliveries?count=1&wait=15").arrayValue ?? []
        #expect(got.count == 1, "\(p.stderr)")
        #expect(proxy.awaitLog("127.0.0.1:\(receiver.port)"), "the webhook went through the proxy\n\(proxy.log)")
        #expect(p.stderr.contains("proxy settings from the configuration"), "\(p.stderr)")
        #expect(!p.stderr.contains(Self.password), "the proxy password was logged")
    }

    @Test func withoutTheCredentialsTheProxyRefusesAndSaysSo() throws {
        let proxy = try TinyProxy(extraConfig: "BasicAuth mojo \(Self.password)\n")
        let (p, _) = try start("proxy = \"http://127.0.0.1:\(proxy.port)\"")
        defer { p.signal(SIGTERM); _ = p.wait(timeout: 20) }
        #expect(p.waitForStderr("407", timeout: 20), "\(p.stderr)\n\(proxy.log)")
        #expect(!p.stderr.contains("msg=connected"))
    }

    @Test func directIgnoresTheEnvironmentsProxy() throws {
        let proxy = try TinyProxy()
        let (p, _) = try start("proxy = \"direct\"", environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)"])
        defer { p.signal(SIGTERM); _ = p.wait(timeout: 20) }
        #expect(p.waitForStderr("msg=connected", timeout: 20), "\(p.stderr)")
        #expect(!proxy.log.contains("CONNECT 127.0.0.1:"), "\(proxy.log)")
    }

    @Test func noProxyInTheConfigReplacesTheEnvironments() throws {
        let proxy = try TinyProxy()
        let (p, _) = try start("no_proxy = [\"127.0.0.1\"]", environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)", "NO_PROXY": "example.com"])
        defer { p.signal(SIGTERM); _ = p.wait(timeout: 20) }
        #expect(p.waitForStderr("msg=connected", timeout: 20), "\(p.stderr)")
        #expect(!proxy.log.contains("CONNECT 127.0.0.1:"), "\(proxy.log)")
    }
}
