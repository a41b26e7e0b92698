import Rules
import Testing

/// Configuration for deployments: server and tenants from the environment, `shard`, `readiness`.
@Suite struct DeploymentConfigTests {
    static let rulesOnly = """
    sink bot { type = pipe  command = ["bot.sh"] }
    route all { to = bot }
    """

    @Test func aRulesOnlyFileTakesServerAndTenantsFromTheEnvironment() throws {
        let config = try Fixtures.load(Self.rulesOnly, files: ["/run/secrets/mojo/org_a": "jwt-a", "/run/secrets/mojo/org_b": "jwt-b"],
                                       variables: ["MOJO_URL": "wss://mojo.example", "MOJO_TENANTS": "org_a, org_b",
                                                   "MOJO_TOKEN_FILE": "/run/secrets/mojo/{tenant}"]).get()
        #expect(config.server.url == "wss://mojo.example")
        #expect(config.tenants.map(\.id) == ["org_a", "org_b"])
        #expect(config.tenants.map(\.token) == [.file("/run/secrets/mojo/org_a"), .file("/run/secrets/mojo/org_b")])
    }

    @Test func oneTenantMayUseMojoTokenOrOneFile() throws {
        let viaEnv = try Fixtures.load(Self.rulesOnly, variables: ["MOJO_URL": "ws://127.0.0.1:3020", "MOJO_TENANT": "org_x", "MOJO_TOKEN": "jwt"]).get()
        #expect(viaEnv.tenants.map(\.token) == [.env("MOJO_TOKEN")])
        let viaFile = try Fixtures.load(Self.rulesOnly, files: ["/etc/mb/token": "jwt"],
                                        variables: ["MOJO_URL": "ws://127.0.0.1:3020", "MOJO_TENANTS": "org_x", "MOJO_TOKEN_FILE": "token"]).get()
        #expect(viaFile.tenants.map(\.token) == [.file("/etc/mb/token")])
    }

    @Test func blocksInTheFileWin() throws {
        let config = try Fixtures.load(Fixtures.header, variables: ["MOJO_TOKEN": "jwt", "MOJO_URL": "wss://ignored.example",
                                                                    "MOJO_TENANTS": "org_ignored"]).get()
        #expect(config.server.url == "ws://127.0.0.1:3020")
        #expect(config.tenants.map(\.id) == ["org_demo"])
    }

    @Test func environmentMistakesAreReported() {
        #expect(Fixtures.errors(Self.rulesOnly, variables: ["MOJO_URL": "mojo.example", "MOJO_TENANT": "org_x", "MOJO_TOKEN": "jwt"]) == [
            #"env:MOJO_URL:1:1: error: MOJO_URL must be a ws, wss, http or https URL, found "mojo.example" (hint: for example wss://messaging.mojo-institut.de)"#,
        ])
        #expect(Fixtures.errors(Self.rulesOnly, variables: ["MOJO_URL": "ws://h", "MOJO_TENANTS": "org_a,org_b", "MOJO_TOKEN": "jwt"]) == [
            "env:MOJO_TENANTS:1:1: error: 2 tenants from MOJO_TENANTS but no MOJO_TOKEN_FILE (hint: export MOJO_TOKEN_FILE=/run/secrets/mojo/{tenant}; MOJO_TOKEN serves a single tenant only)",
        ])
        #expect(Fixtures.errors(Self.rulesOnly, variables: ["MOJO_URL": "ws://h", "MOJO_TENANTS": "org_a,org_b", "MOJO_TOKEN_FILE": "/t"]) == [
            "env:MOJO_TOKEN_FILE:1:1: error: MOJO_TOKEN_FILE names one file for 2 tenants (hint: write {tenant} where the tenant id goes, e.g. /run/secrets/mojo/{tenant})",
        ])
        #expect(Fixtures.errors(Self.rulesOnly, files: ["/s/org_a": "jwt"],
                                variables: ["MOJO_URL": "ws://h", "MOJO_TENANTS": "org_a org_b", "MOJO_TOKEN_FILE": "/s/{tenant}"]) == [
            "env:MOJO_TOKEN_FILE:1:1: error: cannot read the token file of tenant org_b, /s/org_b: No such file or directory",
        ])
        #expect(Fixtures.errors(Self.rulesOnly, variables: ["MOJO_URL": "ws://h", "MOJO_TENANTS": "org a;b", "MOJO_TOKEN_FILE": "/s/{tenant}"]).first?
            .contains("`a;b` is not a tenant id") == true)
    }

    @Test func shardAndReadinessKeys() throws {
        let config = try Fixtures.load("""
            server { url = "ws://127.0.0.1:3020"  shard = "auto/4" }
            tenant org_demo { token = env:MOJO_TOKEN }
            admin { listen = "127.0.0.1:9090"  readiness = sidecar }
            """).get()
        #expect(config.server.shard == .ordinal(count: 4))
        #expect(config.admin?.readiness == .sidecar)
        let plain = try Fixtures.load(Fixtures.header + #"admin { listen = "127.0.0.1:9090" }"#).get()
        #expect(plain.admin?.readiness == .strict)
        #expect(plain.server.shard == nil)
        #expect(Fixtures.errors("""
            server { url = "ws://127.0.0.1:3020"  shard = "4/4" }
            tenant org_demo { token = env:MOJO_TOKEN }
            admin { listen = "127.0.0.1:9090"  readiness = lenient }
            """) == [
            #"/etc/mb/bridge.conf:1:47: error: shard index must be a number from 0 to 3 (or auto), found "4/4" (hint: for example shard = "2/4", or "auto/4" in a StatefulSet of 4)"#,
            "/etc/mb/bridge.conf:3:48: error: unknown value `lenient` for `readiness` (hint: valid values are strict, sidecar)",
        ])
    }
}
