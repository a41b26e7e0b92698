import JSON
import Testing
import TestSupport

/// Issue 12 item 4: a command that ends closes its session (Socket.IO DISCONNECT and Engine.IO
/// close) before exiting, over polling as over WebSocket, so the server keeps no ghost session
/// until its ping timeout.
@Suite struct PollingGoodbyeTests {
    let world = DemoWorld.shared

    private func sockets() throws -> [String] {
        try world.control.get("/control/sockets?userId=\(DemoWorld.bridgeUser)").arrayValue?.compactMap { $0["sid"]?.stringValue } ?? []
    }

    @Test(arguments: ["polling", "websocket"])
    func tailLeavesNoGhostSession(transport: String) throws {
        let conversation = try world.newConversation()
        let tail = try BridgeProcess(["tail", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-file", try world.tokenFile(),
                                      "--transport", transport, "--conversation", conversation, "--log-level", "info"])
        #expect(tail.waitForStderr("msg=connected"), "\(tail.stderr)")
        let sid = try #require(tail.stderr.split(separator: " ").first { $0.hasPrefix("sid=") }.map { String($0.dropFirst(4)) })
        #expect(try sockets().contains(sid))
        tail.signal(2)
        #expect(tail.wait() == 0)
        // The goodbye left before the process did: the server has already dropped the socket.
        #expect(try !sockets().contains(sid), "socket \(sid) still on the server after exit")
    }
}
