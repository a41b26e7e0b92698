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

    @Test func demoConfigLoadsAndRoutes() throws {
        let env = ConfigEnvironment(readFile: { Self.read($0) }, listDirectory: { Self.list($0) },
                                    environment: { $0 == "WEBHOOK_SECRET" ? "whsec_demo" : nil })
        let path = Self.repoPath("Config/bridge.conf")
        let config: BridgeConfig
        switch ConfigLoader.load(path: path, env: env) {
        case .success(let c): config = c
        case .failure(let errors):
            Issue.record("\(errors)")
            return
        }
        #expect(config.server.url == "http://127.0.0.1:3020")
        #expect(config.tenants.map(\.id) == ["org_demo"])
        #expect(config.tenants[0].token == .file(Self.repoPath(".demo/state/bridge.token")))
        #expect(config.sinks.map(\.name) == ["bot", "hooks", "desk"])
        #expect(config.routes.map(\.name) == ["support-bot", "everything-to-hooks", "desk-mail"])
        #expect(config.files.count == 4)
        let help = Fixtures.message("/help")
        #expect(config.match(help).map(\.name) == ["support-bot", "everything-to-hooks", "desk-mail"])
        #expect(config.match(Fixtures.message("hi", conversation: "2")).map(\.name) == ["everything-to-hooks"])
        guard case .matched(let deliveries) = config.explain(help)[2].outcome else { Issue.record("desk"); return }
        #expect(deliveries.first?.subject == "[org_demo] Max in 11111111-1111-4111-8111-111111111111")
        #expect(deliveries.first?.text == "Max wrote at 2024-12-29T10:00:00.000Z:\r\n\r\n/help\r\n")
    }
}
