import Relay
import Rules
import Testing

/// The sink-kind registry: a kind the build has no factory for is refused with the sink block's
/// position, never accepted and dropped at run time.
@Suite struct SinkKindsTests {
    let source = """
        server { url = "ws://127.0.0.1:1" }
        tenant t { token = env:MOJO_TOKEN }
        sink mail { type = email  smtp = "smtp://127.0.0.1:2525"  from = "a@example.com"  to = "b@example.com" }
        route r { to = mail }
        """

    func config() throws -> BridgeConfig {
        var env = ConfigEnvironment.inMemory(files: ["bridge.conf": source])
        env.verifiesReferences = false
        return try #require(try? ConfigLoader.load(path: "bridge.conf", env: env).get())
    }

    @Test func everyKindOfTheLanguageIsRegistered() throws {
        #expect(SinkKinds.unavailable(in: try config()).isEmpty)
        #expect(SinkKinds.all.map(\.name) == ["pipe", "webhook", "email"])
    }

    @Test func aKindWithoutFactoryIsRefusedAtItsBlock() throws {
        let refused = SinkKinds.unavailable(in: try config(), registry: [.pipe, .webhook])
        #expect(refused.map(\.description) == ["bridge.conf:3:1: error: sink `mail`: no factory registered for kind email in this build (hint: this build runs pipe, webhook)"])
    }
}
