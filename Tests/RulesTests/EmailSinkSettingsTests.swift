import Testing
@testable import Rules

@Suite struct EmailSinkSettingsTests {
    static let env = ConfigEnvironment(readFile: { _ in .success([]) }, listDirectory: { _ in .success([]) },
                                       environment: { $0 == "KEY" ? "0123456789abcdef0123" : nil })

    func load(_ sink: String) -> Result<BridgeConfig, ConfigErrors> {
        ConfigLoader.parse(text: """
            server { url = "ws://127.0.0.1:3020" }
            tenant t { token = env:KEY }
            \(sink)
            route r { to = m }
            """, file: "/etc/mb/bridge.conf", env: Self.env)
    }

    @Test func defaultsAndEveryKey() throws {
        guard case .success(let plain) = load(#"sink m { type = email smtp = "smtp://h" from = "a@b.c" to = "c@d.e" }"#),
              let d = plain.sinks[0].kind.settings(as: EmailSinkSettings.self) else { Issue.record("did not load"); return }
        #expect(d.starttls && !d.html && d.replyTo == nil && d.maxSize == 10 << 20 && d.timeout == .seconds(60) && d.connectTimeout == .seconds(10))
        let full = load("""
            sink m { type = email smtp = "smtps://h:465" from = "Desk <a@b.c>" to = ["c@d.e", "f@g.h"] starttls = false html = true
                     reply_to = "reply@bridge.example" reply_secret = [env:KEY, env:KEY] imap = "imaps://h/INBOX" processed_folder = "Done"
                     authserv_id = "mx.example" max_size = 1MiB timeout = 5s connect_timeout = 2s }
            """)
        guard case .success(let config) = full, let e = config.sinks[0].kind.settings(as: EmailSinkSettings.self) else { Issue.record("\(full)"); return }
        #expect(!e.starttls && e.html && e.replyTo == "reply@bridge.example" && e.replySecrets.count == 2)
        #expect(e.processedFolder == "Done" && e.authservId == "mx.example" && e.maxSize == 1 << 20)
        #expect(e.timeout == .seconds(5) && e.connectTimeout == .seconds(2))
        #expect(config.sinks[0].receivesEnvelope)
    }

    @Test func digestKeys() throws {
        guard case .success(let plain) = load(#"sink m { type = email smtp = "smtp://h" from = "a@b.c" to = "c@d.e" }"#),
              let d = plain.sinks[0].kind.settings(as: EmailSinkSettings.self) else { Issue.record("did not load"); return }
        #expect(d.digest == .zero && d.digestLimit == 100)
        guard case .success(let on) = load(#"sink m { type = email smtp = "smtp://h" from = "a@b.c" to = "c@d.e" digest = 5m digest_max = 20 }"#),
              let e = on.sinks[0].kind.settings(as: EmailSinkSettings.self) else { Issue.record("did not load"); return }
        #expect(e.digest == .seconds(300) && e.digestLimit == 20)
        guard case .failure(let errors) = load(#"sink m { type = email smtp = "smtp://h" from = "a@b.c" to = "c@d.e" digest_max = 1 }"#) else {
            Issue.record("accepted"); return
        }
        #expect(errors.description.contains("`digest_max` must be between 2 and 1000"), "\(errors)")
    }

    @Test func replyToNeedsASecretAndAPlainAddress() {
        guard case .failure(let errors) = load(#"sink m { type = email smtp = "smtp://h" from = "a@b.c" to = "c@d.e" reply_to = "r+x@b.c" }"#) else {
            Issue.record("accepted"); return
        }
        let text = errors.description
        #expect(text.contains("/etc/mb/bridge.conf:3:"))
        #expect(text.contains("`reply_to` must be a plain address"))
        #expect(text.contains("`reply_to` needs `reply_secret`"))
    }
}
