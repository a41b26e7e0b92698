import Testing
@testable import Rules

/// `check --no-secrets`, `check --fragment` and the log level spellings, in the loader.
@Suite struct CheckModeTests {
    static let config = """
        server { url = "https://x"  ca_file = "/missing/ca.pem" }
        tenant t { token = file:/run/secrets/tok }
        sink h { type = webhook  url = "https://x/h"  secret = env:HOOK }
        route r { to = h }
        """

    @Test func withoutVerificationReferencesAreCheckedForShapeOnly() {
        var env = ConfigEnvironment.inMemory(files: ["/c/bridge.conf": Self.config])
        guard case .failure(let errors) = ConfigLoader.load(path: "/c/bridge.conf", env: env) else {
            Issue.record("missing secrets must fail by default"); return
        }
        #expect(errors.count == 3)
        env.verifiesReferences = false
        guard case .success = ConfigLoader.load(path: "/c/bridge.conf", env: env) else {
            Issue.record("--no-secrets must pass"); return
        }
        let literal = ConfigEnvironment.inMemory(files: ["/c/b.conf": "server { url = \"https://x\" }\ntenant t { token = \"abc\" }\n"])
        var noVerify = literal
        noVerify.verifiesReferences = false
        guard case .failure = ConfigLoader.load(path: "/c/b.conf", env: noVerify) else {
            Issue.record("a literal secret is an error even without verification"); return
        }
    }

    @Test func aFragmentNeedsNoServerOrTenant() {
        var env = ConfigEnvironment.inMemory(files: ["/r.rules": "sink b { type = pipe  command = [\"/bin/cat\"] }\nroute r { to = b }\n"])
        guard case .failure(let errors) = ConfigLoader.load(path: "/r.rules", env: env) else { Issue.record("no server must fail"); return }
        #expect(errors.contains { $0.message.hasPrefix("no `server` block") })
        env.allowsFragment = true
        guard case .success(let c) = ConfigLoader.load(path: "/r.rules", env: env) else { Issue.record("fragment must pass"); return }
        #expect(c.routes.map(\.name) == ["r"] && c.tenants.isEmpty)
    }

    @Test(arguments: [("warn", LogSettings.Level.warn), ("warning", .warn), ("debug", .debug)])
    func logLevels(_ word: String, _ level: LogSettings.Level) {
        let env = ConfigEnvironment.inMemory(files: ["/b.conf": "server { url = \"https://x\" }\ntenant t { token = env:T }\nlog { level = \(word) }\n"],
                                             variables: ["T": "x"])
        guard case .success(let c) = ConfigLoader.load(path: "/b.conf", env: env) else { Issue.record("\(word) refused"); return }
        #expect(c.log.level == level)
    }
}
