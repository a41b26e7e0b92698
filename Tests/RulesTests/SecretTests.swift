import Testing
@testable import Rules

@Suite struct SecretTests {
    @Test func referenceForms() throws {
        let text = """
        server { url = "ws://h" }
        tenant a { token = env:MOJO_TOKEN }
        tenant b { token = file:"tok en" }
        tenant c { token = file:/abs/tok }
        tenant d { token = command:["bin/get-token", "--org", "d"] }
        tenant e { token = env:"MOJO_TOKEN" }
        admin { listen = "[::1]:9090" token = env:MOJO_TOKEN }
        sink m { type = email smtp = "smtps://mail:465" from = "a@b" to = ["c@d", "e@f"] username = "u" password = file:pw imap = "imaps://mail/INBOX" poll_interval = 30s }
        """
        let files = ["/etc/mb/tok en": "x", "/abs/tok": "y", "/etc/mb/pw": "z"]
        let config = try Fixtures.load(text, files: files).get()
        #expect(config.tenants.map(\.token) == [.env("MOJO_TOKEN"), .file("/etc/mb/tok en"), .file("/abs/tok"),
                                               .command(["/etc/mb/bin/get-token", "--org", "d"]), .env("MOJO_TOKEN")])
        #expect(config.admin == AdminSettings(listen: "[::1]:9090", token: .env("MOJO_TOKEN")))
        guard let mail = config.sinks[0].kind.settings(as: EmailSinkSettings.self) else { Issue.record("kind"); return }
        #expect(mail.password == .file("/etc/mb/pw") && mail.username == "u" && mail.to == ["c@d", "e@f"])
        #expect(mail.imap == "imaps://mail/INBOX" && mail.pollInterval == .seconds(30))
        #expect(config.sinks[0].templateEscaping == .body)
    }

    @Test func descriptionsNeverHoldTheSecret() {
        #expect(SecretRef.env("A").description == "env:A")
        #expect(SecretRef.file("/p").description == "file:/p")
        #expect(SecretRef.command(["a", "b"]).description == #"command:["a", "b"]"#)
    }

    @Test func secretKeys() {
        #expect(SecretRef.isSecretKey("token") && SecretRef.isSecretKey("imap_password") && SecretRef.isSecretKey("secret"))
        #expect(!SecretRef.isSecretKey("tokens") && !SecretRef.isSecretKey("url"))
    }

    @Test func literalTokenAndPasswordRefused() {
        let text = """
        server { url = "ws://h" }
        tenant a { token = "eyJhbGciOi" }
        sink m { type = email smtp = "smtp://h" from = "a@b" to = "c@d" password = "hunter2" }
        """
        #expect(Fixtures.errors(text) == [
            "/etc/mb/bridge.conf:2:20: error: `token` must not be written in the file (hint: secrets are given by reference: env:NAME, file:PATH or command:[\"prog\", \"arg\"])",
            "/etc/mb/bridge.conf:3:76: error: `password` must not be written in the file (hint: secrets are given by reference: env:NAME or file:PATH)",
        ])
    }

    @Test func unsetEnvironmentIsCheckedThroughTheInjectedLookup() {
        let text = Fixtures.header + "sink h { type = webhook url = \"https://x\" secret = [env:WEBHOOK_SECRET, env:OLD_SECRET] }"
        #expect(Fixtures.errors(text) == [
            "/etc/mb/bridge.conf:4:73: error: environment variable OLD_SECRET is not set (hint: export OLD_SECRET before starting, or use file:PATH)",
        ])
        #expect(Fixtures.errors(text, variables: Fixtures.variables.merging(["OLD_SECRET": "s"]) { a, _ in a }).isEmpty)
        #expect(Fixtures.errors(Fixtures.header, variables: [:]) == [
            "/etc/mb/bridge.conf:2:27: error: environment variable MOJO_TOKEN is not set (hint: export MOJO_TOKEN before starting, or use file:PATH)",
        ])
    }

    @Test func badReferenceShapes() {
        let text = """
        server { url = "ws://h" }
        tenant a { token = env:BAD-NAME }
        tenant b { token = command:"x" }
        tenant c { token = command:[1] }
        tenant d { token = 42 }
        """
        #expect(Fixtures.errors(text) == [
            "/etc/mb/bridge.conf:2:24: error: `BAD-NAME` is not an environment variable name (hint: env:NAME with letters, digits and _)",
            "/etc/mb/bridge.conf:3:28: error: `command:` takes a list of strings (hint: command:[\"prog\", \"arg\"])",
            "/etc/mb/bridge.conf:4:29: error: command arguments must be strings, found a number (hint: command:[\"prog\", \"arg\"])",
            "/etc/mb/bridge.conf:5:20: error: `token` must be a secret reference, found a number (hint: use env:NAME, file:PATH or command:[\"prog\", \"arg\"])",
        ])
    }
}
