import Foundation
import JSON
import Testing
import TestSupport

/// The client stack against a dev server of its own: kicks, restarts, a frozen server, maxPayload,
/// TLS, and fresh tokens at every connect.
@Suite(.serialized) struct SessionResilienceTests {
    func conn(_ server: DevServer, token: String, transport: String = "websocket") -> [String] {
        ["--url", server.url, "--tenant", DemoWorld.tenant, "--token-file", token, "--transport", transport]
    }

    @Test(arguments: ["websocket", "polling"])
    func aKickedSessionReconnectsAndKeepsItsRooms(transport: String) throws {
        let world = DemoWorld(server: try DevServer())
        let c = try world.newConversation()
        let tail = try BridgeProcess(["tail"] + conn(world.server, token: try world.tokenFile(), transport: transport)
                                     + ["--conversation", c, "--log-level", "info"])
        #expect(tail.waitForStderr("msg=connected"), "\(tail.stderr)")
        try world.control.post("/control/kick", ["userId": "user_bridge"])
        #expect(tail.waitForStderr("io server disconnect"), "\(tail.stderr)")
        #expect(tail.waitForStderr("msg=connected", occurrences: 2), "\(tail.stderr)")
        try world.post("after the kick", to: c)
        #expect(tail.waitForLine { $0.contains("after the kick") } != nil)
        tail.signal(SIGINT)
        #expect(tail.wait() == 0)
    }

    @Test func aServerRestartIsSurvivedAndBufferedSendsArriveOnceInOrder() throws {
        var server = try DevServer()
        let port = server.port, state = server.stateDir
        let world = DemoWorld(server: server)
        let c = try world.newConversation()
        let token = try world.tokenFile()
        let send = try BridgeProcess(["send", "--url", server.url, "--tenant", DemoWorld.tenant, "--token-file", token,
                                      "--conversation", c, "--log-level", "info", "--timeout", "60s"])
        send.write("one\n")
        #expect(send.waitForStderr("msg=connected"), "\(send.stderr)")
        #expect(try world.awaitClientEvents(since: 0, name: "message:send").count == 1)
        server.stop()
        #expect(send.waitForStderr("reconnecting"), "\(send.stderr)")
        send.write("two\nthree\n")
        server = try DevServer(demo: true, stateDir: state, port: port)
        send.closeStdin()
        #expect(send.wait(timeout: 30) == 0, "\(send.stderr)")
        let restarted = DemoWorld(server: server)
        #expect(try restarted.messages(in: c).map { $0["content"]?.stringValue } == ["one", "two", "three"])
        try? FileManager.default.removeItem(atPath: state)
    }

    @Test func aFrozenServerIsDeclaredDeadWithinPingIntervalPlusPingTimeout() throws {
        let world = DemoWorld(server: try DevServer())
        try world.control.post("/control/config", ["pingInterval": 400, "pingTimeout": 400])
        let tail = try BridgeProcess(["tail"] + conn(world.server, token: try world.tokenFile()) + ["--log-level", "info"])
        #expect(tail.waitForStderr("msg=connected"), "\(tail.stderr)")
        world.server.freeze()
        defer { world.server.thaw() }
        #expect(tail.waitForStderr("ping timeout", timeout: 10), "\(tail.stderr)")
        // No wall-clock bound here (it flaked on a loaded machine): the deadline rule
        // (pingInterval + pingTimeout) is tested on virtual time in EngineIOClientStateTests.
        tail.signal(SIGINT)
        #expect(tail.wait() == 0)
    }

    @Test func aMessageOverMaxPayloadIsRefusedWithAClearError() throws {
        let world = DemoWorld(server: try DevServer())
        try world.control.post("/control/config", ["maxPayload": 2000])
        let c = try world.newConversation()
        let r = try BridgeProcess.run(["send"] + conn(world.server, token: try world.tokenFile()) + ["--conversation", c,
                                       String(repeating: "x", count: 5000)])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("exceeds the server's maxPayload of 2000 bytes"))
        #expect(try world.messages(in: c).isEmpty)
    }

    @Test(arguments: ["websocket", "polling"])
    func tlsWithAThrowAwayCA(transport: String) throws {
        let pki = try #require(ThrowawayPKI.shared, "openssl could not make a test CA")
        let server = try DevServer(extraArguments: ["--tls-cert", pki.certFile, "--tls-key", pki.keyFile])
        #expect(server.url.hasPrefix("https://"))
        let token = try DemoWorld(server: server).controlToken()
        let args = ["send", "--url", server.url, "--tenant", DemoWorld.tenant, "--transport", transport,
                    "--conversation", "11111111-1111-4111-8111-111111111111", "over TLS"]
        let trusted = try BridgeProcess.run(args + ["--ca-file", pki.caFile], environment: ["MOJO_TOKEN": token])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        let untrusted = try BridgeProcess.run(args, environment: ["MOJO_TOKEN": token])
        #expect(untrusted.status == (transport == "websocket" ? 80 : 69), "\(untrusted.stderr)")
        #expect(untrusted.stderr.lowercased().contains("certificate"))
        if transport == "websocket" {
            // The system store read as a hashed directory (here SSL_CERT_DIR; /etc/ssl/certs by
            // default): the CA is found by its subject hash during the handshake.
            let viaDirectory = try BridgeProcess.run(args, environment: ["MOJO_TOKEN": token, "SSL_CERT_DIR": try pki.hashedDirectory()])
            #expect(viaDirectory.status == 0, "\(viaDirectory.stderr)")
        }
        let wrongName = try BridgeProcess.run(["send", "--url", server.url.replacingOccurrences(of: "127.0.0.1", with: "127.0.0.2"),
                                               "--tenant", DemoWorld.tenant, "--transport", "websocket", "--ca-file", pki.caFile,
                                               "--conversation", "11111111-1111-4111-8111-111111111111", "x"],
                                              environment: ["MOJO_TOKEN": token])
        #expect(wrongName.status != 0)
    }

    @Test func theTokenCommandRunsAtEveryConnect() throws {
        let world = DemoWorld(server: try DevServer())
        let dir = try RepoPaths.temporaryDirectory("mojo-tokcmd")
        let counter = dir + "/count"
        let script = dir + "/token.sh"
        try """
            #!/bin/sh
            echo x >> \(counter)
            exec \(RepoPaths.python) -c 'import json,urllib.request; r=urllib.request.urlopen(urllib.request.Request("\(world.url)/control/tokens", data=json.dumps({"userId":"user_bridge","ttl":60}).encode(), headers={"content-type":"application/json"})); print(json.load(r)["token"])'
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let tail = try BridgeProcess(["tail", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-command", script, "--log-level", "info"])
        #expect(tail.waitForStderr("msg=connected"), "\(tail.stderr)")
        try world.control.post("/control/kick", ["userId": "user_bridge"])
        #expect(tail.waitForStderr("msg=connected", occurrences: 2), "\(tail.stderr)")
        tail.signal(SIGINT)
        #expect(tail.wait() == 0)
        #expect(try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count == 2)
    }

    @Test func aFailingOrExpiredTokenSourceIsAClearError() throws {
        let world = DemoWorld(server: try DevServer())
        let expired = try world.control.token(for: DemoWorld.bridgeUser, ttl: -30)
        let r1 = try BridgeProcess.run(["tail", "--url", world.url, "--tenant", DemoWorld.tenant], environment: ["MOJO_TOKEN": expired])
        #expect(r1.status == 77)
        #expect(r1.stderr.contains("token expired"))
        #expect(!r1.stderr.contains(expired))
        let r2 = try BridgeProcess.run(["tail", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-command", "sh -c 'echo nope >&2; exit 3'"])
        #expect(r2.status == 77)
        #expect(r2.stderr.contains("exit status 3: nope"))
    }
}

extension DemoWorld {
    /// A bridge token minted with the dev server's own key, read from its state dir (the control
    /// API is not reachable over plain HTTP when the server speaks TLS).
    func controlToken() throws -> String {
        try String(contentsOfFile: server.stateDir + "/bridge.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
