#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Rules

/// The examples in `Config/` load and route as documented (read from disk by the test).
@Suite struct ShippedConfigTests {
    static func repoPath(_ relative: String) -> String {
        var dir = ConfigPath.directory(of: #filePath)
        for _ in 0..<2 { dir = ConfigPath.directory(of: dir) }
        return dir + "/" + relative
    }

    static func read(_ path: String) -> Result<[UInt8], AccessError> {
        if path.hasSuffix(".demo/state/bridge.token") { return .success(Array("jwt\n".utf8)) }
        guard let file = fopen(path, "rb") else { return .failure(AccessError("No such file or directory")) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return .success(bytes)
    }

    static func list(_ path: String) -> Result<[String], AccessError> {
        guard let dir = opendir(path) else { return .failure(AccessError("No such file or directory")) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names)
    }

    static let env = ConfigEnvironment(readFile: { read($0) }, listDirectory: { list($0) },
                                       environment: { ["WEBHOOK_SECRET", "MOJO_MAIL_PASSWORD", "MOJO_MAIL_REPLY_KEY"].contains($0) ? "whsec_demo" : nil })

    @Test func demoConfigLoadsAndRoutes() throws {
        let path = Self.repoPath("Config/bridge.conf")
        let config: BridgeConfig
        switch ConfigLoader.load(path: path, env: Self.env) {
        case .success(let c): config = c
        case .failure(let errors):
            Issue.record("\(errors)")
            return
        }
        #expect(config.server.url == "http://127.0.0.1:3020")
        #expect(config.tenants.map(\.id) == ["org_demo"])
        #expect(config.tenants[0].token == .file(Self.repoPath(".demo/state/bridge.token")))
        #expect(config.sinks.map(\.name) == ["autoresponder"])
        #expect(config.routes.map(\.name) == ["demo-autoresponder"])
        #expect(config.files.count == 2)
        guard let pipe = config.sinks[0].kind.settings(as: PipeSinkSettings.self) else { Issue.record("not a pipe"); return }
        #expect(pipe.command == [Self.repoPath("Bridges/autoresponder.sh")])
        let hello = Fixtures.message("Hello")
        #expect(config.match(hello).map(\.name) == ["demo-autoresponder"])
        #expect(config.match(Fixtures.message("hi", conversation: "2")).isEmpty)
        guard case .matched(let deliveries) = config.explain(hello)[0].outcome else { Issue.record("no match"); return }
        #expect(deliveries.first?.text == "Max: Hello")
    }

    /// Every file in Config/examples/ loads when included by a minimal config.
    @Test(arguments: ["command-bot", "conversation-logger", "jq-filter", "webhook", "email"])
    func examplesLoad(name: String) throws {
        let dir = Self.repoPath("Config/examples")
        let text = """
            server { url = "ws://127.0.0.1:3020" }
            tenant org_demo { token = env:WEBHOOK_SECRET }
            include "\(name).rules"
            """
        switch ConfigLoader.parse(text: text, file: dir + "/test.conf", env: Self.env) {
        case .success(let config):
            #expect(!config.routes.isEmpty && !config.sinks.isEmpty)
        case .failure(let errors):
            Issue.record("\(errors)")
        }
    }
}
