import Testing
@testable import Rules

@Suite struct LanguageTests {
    @Test func fullExampleLoads() throws {
        let text = """
        # /etc/mb/bridge.conf
        server {
          url = "wss://messaging.example"
          transport = websocket      # websocket | polling | auto
          ca_file = "ca.pem"
          connect_timeout = 1500ms
          reconnect_max_delay = 2m
        }
        tenant org_demo {
          token = file:secrets/token
          conversations = ["11111111-1111-4111-8111-111111111111", 22222222-2222-4222-8222-222222222222,]
        }
        tenant org_two { token = command:["get-token", "--org", "org_two"] }
        sink bot {
          type = pipe
          command = ["bin/bot.sh", "--verbose"]
          per = route
          format = text
          queue = 50
          when_full = drop_oldest
        }
        sink hooks {
          type = webhook
          url = "https://example.com/mojo"
          secret = [env:WEBHOOK_SECRET, file:"/run/old secret"]
          allow_private = true
          timeout = 5s
        }
        sink desk { type = email  smtp = "smtp://127.0.0.1:2525"  from = "bridge@example.com"  to = "desk@example.com" subject = "[{tenant}] {sender.name}" }
        admin { listen = "127.0.0.1:9090" }
        spool { dir = "../spool"  max_size = 64KiB }
        log { level = debug  format = json }
        route support-bot {
          tenant = org_demo
          conversation = ["11111111-*"]
          events = [message, typing]
          message_type = [TEXT]
          sender = "user_*"
          content = /^\\/(help|time)\\b/i
          to = [bot, hooks]
          direction = to_sink
          template = "{sender.name}: {content}"
          continue = true
        }
        """
        let files = ["/etc/mb/ca.pem": "pem", "/etc/mb/secrets/token": "jwt", "/run/old secret": "whsec_old"]
        let config = try Fixtures.load(text, files: files).get()
        #expect(config.server.url == "wss://messaging.example")
        #expect(config.server.transport == .websocket)
        #expect(config.server.caFile == "/etc/mb/ca.pem")
        #expect(config.server.connectTimeout == .milliseconds(1500))
        #expect(config.server.reconnectMaxDelay == .seconds(120))
        #expect(config.tenants.map(\.id) == ["org_demo", "org_two"])
        #expect(config.tenants[0].token == .file("/etc/mb/secrets/token"))
        #expect(config.tenants[0].conversations == ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"])
        #expect(config.tenants[1].token == .command(["get-token", "--org", "org_two"]))
        #expect(config.sinks.map(\.name) == ["bot", "hooks", "desk"])
        guard let pipe = config.sinks[0].kind.settings(as: PipeSinkSettings.self),
              let hook = config.sinks[1].kind.settings(as: WebhookSinkSettings.self),
              let mail = config.sinks[2].kind.settings(as: EmailSinkSettings.self) else {
            Issue.record("sink kinds")
            return
        }
        #expect(pipe.command == ["/etc/mb/bin/bot.sh", "--verbose"])
        #expect(pipe.per == .route && pipe.format == .text)
        #expect(config.sinks[0].queue == 50 && config.sinks[0].whenFull == .drop_oldest)
        #expect(config.sinks[0].templateEscaping == .line)
        #expect(hook.url == "https://example.com/mojo")
        #expect(hook.secrets == [.env("WEBHOOK_SECRET"), .file("/run/old secret")])
        #expect(hook.allowPrivate && hook.timeout == .seconds(5))
        #expect(mail.to == ["desk@example.com"] && mail.from == "bridge@example.com")
        #expect(mail.subject.source == "[{tenant}] {sender.name}")
        #expect(config.admin?.listen == "127.0.0.1:9090")
        #expect(config.spool.directory == "/etc/spool" && config.spool.maxSize == 65536)
        #expect(config.log.level == .debug && config.log.format == .json)
        let route = try #require(config.routes.first)
        #expect(route.name == "support-bot")
        #expect(route.location == SourceLocation(file: "/etc/mb/bridge.conf", line: 33, column: 1))
        #expect(route.tenants == ["org_demo"] && route.conversations == ["11111111-*"])
        #expect(route.events == [.message, .typing] && route.messageTypes == ["TEXT"])
        #expect(route.senders == ["user_*"] && route.sinks == ["bot", "hooks"])
        #expect(route.content?.description == "/^\\/(help|time)\\b/i")
        #expect(route.flow == .to_sink && route.continues && !route.includeSelf)
        #expect(route.template?.source == "{sender.name}: {content}")
        #expect(config.files == ["/etc/mb/bridge.conf"])
    }

    @Test func defaults() throws {
        let config = try Fixtures.load(Fixtures.header + "route r { to = bot }").get()
        #expect(config.server.transport == .auto)
        #expect(config.server.connectTimeout == .seconds(10))
        #expect(config.admin == nil)
        #expect(config.spool == SpoolSettings(directory: "/var/lib/mojo-bridge/spool", maxSize: 512 << 20))
        #expect(config.log == LogSettings(level: .info, format: .logfmt))
        guard let pipe = config.sinks[0].kind.settings(as: PipeSinkSettings.self) else { return }
        #expect(pipe.per == .conversation && pipe.format == .json && pipe.command == ["bot.sh"])
        #expect(config.sinks[0].queue == 1000 && config.sinks[0].whenFull == .block)
        let route = config.routes[0]
        #expect(route.events == [.message] && route.flow == .both && !route.continues)
        #expect(route.tenants.isEmpty && route.conversations.isEmpty && route.content == nil && route.template == nil)
    }

    @Test func stringEscapesAndUnicode() throws {
        let text = Fixtures.header + #"route r { to = bot  template = "a\"b\\c\nd\te – ü" }"#
        let config = try Fixtures.load(text).get()
        #expect(config.routes[0].template?.source == "a\"b\\c\nd\te – ü")
    }

    @Test func durationsAndSizes() throws {
        for (text, expected) in [("500ms", Duration.milliseconds(500)), ("5s", .seconds(5)), ("2m", .seconds(120)),
                                 ("1h", .seconds(3600)), ("1d", .seconds(86400))] {
            let config = try Fixtures.load("server { url = \"ws://h\" connect_timeout = \(text) }\ntenant t { token = env:MOJO_TOKEN }").get()
            #expect(config.server.connectTimeout == expected)
        }
        for (text, expected) in [("10B", 10), ("1KB", 1000), ("64KiB", 65536), ("1MiB", 1 << 20), ("2GiB", 2 << 30), ("3MB", 3_000_000)] {
            let config = try Fixtures.load(Fixtures.header + "spool { max_size = \(text) }").get()
            #expect(config.spool.maxSize == expected)
        }
    }

    @Test func wildcardConversationMeansAny() throws {
        let config = try Fixtures.load(Fixtures.header + "route r { to = bot conversation = \"*\" events = all }").get()
        #expect(config.routes[0].conversations.isEmpty)
        #expect(config.routes[0].events == [.message, .typing, .read, .presence, .conversation, .gap])
    }

    @Test func commentsEverywhereAndEmptyLists() throws {
        let text = """
        # leading comment
        server { # after brace
          url = "ws://h"   # trailing
        }
        tenant t { token = env:MOJO_TOKEN conversations = [ ] }   # after block
        # the end
        """
        let config = try Fixtures.load(text).get()
        #expect(config.tenants[0].conversations.isEmpty)
    }

    @Test func lexerTokens() {
        var lexer = Lexer(text: "a = [1, 5s, /x\\/y/i, env:A, file:/p/q, \"s\"] {}", file: "f")
        let kinds = lexer.tokenize().map(\.kind)
        #expect(kinds == [.word("a"), .equals, .leftBracket, .number(1), .comma, .quantity(5, unit: "s"), .comma,
                          .regex(pattern: "x/y", flags: "i"), .comma, .scheme("env"), .word("A"), .comma,
                          .scheme("file"), .word("/p/q"), .comma, .string("s"), .rightBracket, .leftBrace, .rightBrace, .end])
        #expect(lexer.errors.isEmpty)
    }

    @Test func conversationsToJoin() throws {
        let text = Fixtures.header + """
        route a { to = bot conversation = ["c1", "c2*"] }
        route b { to = bot tenant = "other*" conversation = "c3" }
        """
        let config = try Fixtures.load(text).get()
        #expect(config.conversationsToJoin(tenant: "org_demo") == ["c1"])
    }

    @Test func paths() {
        #expect(ConfigPath.resolve("a/../b/./c", against: "/etc/x") == "/etc/x/b/c")
        #expect(ConfigPath.resolve("/abs", against: "/etc") == "/abs")
        #expect(ConfigPath.resolve("../../x", against: "cfg") == "../x")
        #expect(ConfigPath.resolve("x", against: ".") == "x")
        #expect(ConfigPath.directory(of: "bridge.conf") == ".")
        #expect(ConfigPath.directory(of: "/bridge.conf") == "/")
    }

    @Test func suggestion() {
        #expect(Suggestion.distance("kitten", "sitting") == 3)
        #expect(Suggestion.closest(to: "tranport", in: ServerSettings.keys) == "transport")
        #expect(Suggestion.closest(to: "zzz", in: ServerSettings.keys) == nil)
    }

    @Test func globs() {
        #expect(Glob.matches("11111111-*", "11111111-1111"))
        #expect(!Glob.matches("11111111-*", "22222222-1111"))
        #expect(Glob.matches("*", ""))
        #expect(Glob.matches("a*b*c", "aXXbYYc"))
        #expect(!Glob.matches("a*b*c", "aXXbYY"))
        #expect(Glob.matches("user_?", "user_1") && !Glob.matches("user_?", "user_12"))
        #expect(Glob.matches("exact", "exact") && !Glob.matches("exact", "exactly"))
    }
}
