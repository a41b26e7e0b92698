import Testing
import TestSupport

/// libcurl is opened on first use: a daemon that only speaks WebSocket never maps it (nor the
/// libraries it pulls in), one that polls does.
@Suite(.serialized) struct LibraryLoadingTests {
    let world = DemoWorld.shared

    @Test func aWebSocketDaemonWithAPipeSinkDoesNotMapLibcurl() throws {
        let c = try world.newConversation()
        let daemon = try Daemon(rules: """
            sink s { type = pipe  command = ["cat"]  format = json }
            route r { conversation = ["\(c)"]  to = s }
            """)
        let libraries = try daemon.process.mappedLibraries()
        #expect(libraries.contains { $0.hasPrefix("libc.so") })
        #expect(!libraries.contains { $0.hasPrefix("libcurl") }, "\(libraries.sorted())")
        #expect(daemon.stop() == 0)
    }

    @Test func pollingLoadsLibcurl() throws {
        let tail = try BridgeProcess(["tail", "--url", world.url, "--tenant", DemoWorld.tenant, "--token-file", try world.tokenFile(),
                                      "--transport", "polling", "--log-level", "info"])
        #expect(tail.waitForStderr("msg=connected"), "\(tail.stderr)")
        let libraries = try tail.mappedLibraries()
        #expect(libraries.contains { $0.hasPrefix("libcurl.so.4") }, "\(libraries.sorted()) \(tail.stderr)")
        tail.signal(2)
        #expect(tail.wait() == 0)
    }
}
