#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport

/// A real HTTP proxy (tinyproxy from Debian, on loopback) started by the test.
final class TinyProxy {
    let port: Int
    let logPath: String
    private let process = Process()

    /// `extraConfig`: more tinyproxy directives (`BasicAuth user password`).
    init(extraConfig: String = "") throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-proxy")
        port = Self.freePort()
        logPath = dir + "/tinyproxy.log"
        let conf = """
            Port \(port)
            Listen 127.0.0.1
            Timeout 60
            MaxClients 50
            Allow 127.0.0.1
            LogFile "\(logPath)"
            LogLevel Info
            DisableViaHeader Yes
            \(extraConfig)
            """
        try conf.write(toFile: dir + "/tinyproxy.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tinyproxy")
        process.arguments = ["-d", "-c", dir + "/tinyproxy.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts a connection (bounded).
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(port), Date() < deadline { usleep(20_000) }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the log contains `text` (bounded).
    func awaitLog(_ text: String, timeout: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(text) { return true }
            usleep(50_000)
        }
        return log.contains(text)
    }

    deinit {
        // SIGKILL without waiting: Foundation reaps its child itself.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// HTTP_PROXY / HTTPS_PROXY / NO_PROXY for every transport, and the SSRF guard behind a proxy.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tinyproxy")))
struct ProxyTests {
    let world = DemoWorld.shared
    var devPort: String { String(world.url.split(separator: ":").last ?? "") }

    @Test func theWebSocketTransportTunnelsThroughTheProxy() throws {
        let proxy = try TinyProxy()
        let c = try world.newConversation()
        let tail = try BridgeProcess(["tail", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-file", try world.tokenFile(),
                                      "--transport", "websocket", "--conversation", c, "--log-level", "info"],
                                     environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)"])
        defer { tail.signal(SIGTERM); _ = tail.wait() }
        #expect(tail.waitForStderr("msg=connected", timeout: 20), "\(tail.stderr)")
        #expect(proxy.awaitLog("CONNECT 127.0.0.1:\(devPort)"), "\(proxy.log)")
        try world.post("through the proxy", to: c)
        #expect(tail.waitForLine { $0.contains("through the proxy") } != nil, "\(tail.stderr)")
    }

    @Test func noProxyExemptsTheHost() throws {
        let proxy = try TinyProxy()
        let c = try world.newConversation()
        let tail = try BridgeProcess(["tail", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-file", try world.tokenFile(),
                                      "--transport", "websocket", "--conversation", c, "--log-level", "info"],
                                     environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)", "NO_PROXY": "localhost,127.0.0.1"])
        defer { tail.signal(SIGTERM); _ = tail.wait() }
        #expect(tail.waitForStderr("msg=connected", timeout: 20), "\(tail.stderr)")
        try world.post("direct", to: c)
        #expect(tail.waitForLine { $0.contains("direct") } != nil, "\(tail.stderr)")
        #expect(!proxy.log.contains("CONNECT 127.0.0.1:"))
    }

    @Test func aRefusingProxyIsReported() throws {
        let proxy = try TinyProxy()
        // The proxy cannot reach the destination (nothing listens on port 1) and answers 500.
        let r = try BridgeProcess.run(["tail", "--url", "http://127.0.0.1:1", "--tenant", DemoWorld.tenant, "--token-file", try world.tokenFile(),
                                       "--transport", "websocket"], environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("proxy http://127.0.0.1:\(proxy.port)"), "\(r.stderr)")
    }

    @Test func theSSRFGuardJudgesTheTargetNotTheProxy() throws {
        let proxy = try TinyProxy()
        let c = try world.newConversation()
        let receiver = try PythonPeer("webhook_receiver.py")
        let env = ["http_proxy": "http://127.0.0.1:\(proxy.port)", "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
        // A private target is refused before the proxy is asked, although the proxy itself is
        // on loopback and allowed; a private target with allow_private goes through the proxy.
        let d = try Daemon(rules: """
            sink meta { type = webhook  url = "http://169.254.169.254/latest/meta-data"  secret = env:HOOK_SECRET  retry = [0s] }
            sink ok { type = webhook  url = "http://127.0.0.1:\(receiver.port)/in"  secret = env:HOOK_SECRET  allow_private = true }
            route r { conversation = ["\(c)"]  to = [meta, ok] }
            """, environment: env)
        try world.post("probe", to: c)
        #expect(d.process.waitForStderr("resolves to 169.254.169.254: not a public address (SSRF guard; checked before asking the proxy"))
        #expect(proxy.awaitLog("127.0.0.1:\(receiver.port)"), "\(proxy.log)")
        #expect(!proxy.log.contains("169.254.169.254"))
        #expect(d.stop() == 0)
    }
}
