import Foundation
import JSON
import Testing
import TestSupport

/// The operator's tools (issue 16): configs checkable in CI, rules testable, help that helps.
@Suite struct OperatorTests {
    static func file(_ dir: String, _ name: String, _ text: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A JWT-shaped token whose payload says `sub` (the signature is not checked offline).
    static func token(sub: String) -> String {
        func b64(_ s: String) -> String {
            Data(s.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        return b64("{\"alg\":\"HS256\"}") + "." + b64("{\"sub\":\"\(sub)\",\"exp\":9999999999}") + ".c2ln"
    }

    static let message = """
        {"id":"evt_1","type":"message:new","timestamp":"2026-11-26T10:00:00.000Z","tenant":"org_demo","data":{"message":{"id":"m1","conversationId":"c1","senderId":"user_alice","type":"TEXT","content":"/help","sender":{"name":"Alice"}}}}
        """
    static let ownMessage = message.replacingOccurrences(of: "\"senderId\":\"user_alice\"", with: "\"senderId\":\"user_bridge\"")
        .replacingOccurrences(of: "evt_1", with: "evt_2")

    static func config(_ dir: String, hook: String = "env:HOOK_SECRET") throws -> String {
        try file(dir, "bridge.conf", """
            server { url = "http://127.0.0.1:1" }
            tenant org_demo { token = env:TOKEN }
            log { level = warn }
            sink bot { type = pipe  command = ["/bin/cat"]  format = text }
            sink hooks { type = webhook  url = "https://example.com/x"  secret = \(hook) }
            route commands { content = /^\\//  to = bot  template = "{content}"  continue = true }
            route all { conversation = "*"  to = hooks  direction = to_sink }
            """)
    }

    // MARK: check

    @Test func checkRefusesASecretRunWouldRefuse() throws {
        let dir = try RepoPaths.temporaryDirectory()
        let conf = try Self.config(dir)
        let bad = try BridgeProcess.run(["check", "--config", conf], environment: ["TOKEN": Self.token(sub: "user_bridge"), "HOOK_SECRET": "nothex"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("sink `hooks`: secret env:HOOK_SECRET: webhook secret"))
        #expect(!bad.stderr.contains("nothex"))
        let empty = try BridgeProcess.run(["check", "--config", conf], environment: ["TOKEN": "", "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(empty.status == 1 && empty.stderr.contains("tenant `org_demo`: token env:TOKEN"), "\(empty.stderr)")
        let good = try BridgeProcess.run(["check", "--config", conf],
                                         environment: ["TOKEN": Self.token(sub: "user_bridge"), "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(good.status == 0, "\(good.stderr)")
    }

    @Test func checkNoSecretsReadsNoEnvironmentOrFile() throws {
        let dir = try RepoPaths.temporaryDirectory()
        let conf = try Self.file(dir, "bridge.conf", """
            server { url = "https://example.com"  ca_file = "/nonexistent/ca.pem" }
            tenant org_demo { token = file:/run/secrets/nope }
            admin { listen = "127.0.0.1:0"  token = file:/run/secrets/admin-token }
            sink hooks { type = webhook  url = "https://example.com/x"  secret = env:HOOK_SECRET }
            route all { to = hooks }
            """)
        let without = try BridgeProcess.run(["check", "--config", conf])
        #expect(without.status == 1)
        #expect(without.stderr.contains("HOOK_SECRET is not set") && without.stderr.contains("/run/secrets/nope"))
        let with = try BridgeProcess.run(["check", "--no-secrets", "--config", conf])
        #expect(with.status == 0, "\(with.stderr)")
        // Shape is still checked: a literal secret is an error with or without --no-secrets.
        let literal = try Self.file(dir, "literal.conf", "server { url = \"https://example.com\" }\ntenant t { token = \"eyJ\" }\n")
        #expect(try BridgeProcess.run(["check", "--no-secrets", "--config", literal]).status == 1)
    }

    @Test func checkFragmentTakesARuleFileAlone() throws {
        let rules = RepoPaths.root + "/Config/examples/command-bot.rules"
        let alone = try BridgeProcess.run(["check", "--no-secrets", "--config", rules])
        #expect(alone.status == 1 && alone.stderr.contains("no `server` block"))
        let fragment = try BridgeProcess.run(["check", "--no-secrets", "--fragment", "--config", rules])
        #expect(fragment.status == 0, "\(fragment.stderr)")
    }

    @Test func checkEventReadsTailLinesFromStdinAndTakesSelfFromTheToken() throws {
        let dir = try RepoPaths.temporaryDirectory()
        let conf = try Self.config(dir)
        let env = ["TOKEN": Self.token(sub: "user_bridge"), "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
        let r = try BridgeProcess.run(["check", "--config", conf, "--event", "-"], environment: env,
                                      stdin: Self.message + "\n\n" + Self.ownMessage + "\n")
        // The bridge's own message (sub of the token) takes no route: exit 1, and says so.
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("-:1: message:new evt_1"))
        #expect(r.stdout.contains("-> bot: \"/help\""))
        #expect(r.stdout.contains("-:3: message:new evt_2"))
        #expect(r.stdout.contains("user_bridge is the daemon's own user"))
        #expect(r.stdout.contains("no route matched"))
        let one = try BridgeProcess.run(["check", "--config", conf, "--event", "-"], environment: env, stdin: Self.message)
        #expect(one.status == 0)
        let expect = try BridgeProcess.run(["check", "--config", conf, "--event", "-", "--expect", "commands,all"], environment: env, stdin: Self.message)
        #expect(expect.status == 0, "\(expect.stdout)")
        let wrong = try BridgeProcess.run(["check", "--config", conf, "--event", "-", "--expect", "all"], environment: env, stdin: Self.message)
        #expect(wrong.status == 1 && wrong.stdout.contains("FAIL: expected all, matched commands,all"))
        let none = try BridgeProcess.run(["check", "--config", conf, "--event", "-", "--expect", "none"], environment: env, stdin: Self.ownMessage)
        #expect(none.status == 0)
    }

    // MARK: test

    @Test func theShippedRuleTestPasses() throws {
        let r = try BridgeProcess.run(["test", "-v", RepoPaths.root + "/Config/examples/command-bot.test.jsonl"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("4 tests, 0 failed"))
    }

    @Test func aFailingRuleTestPrintsADiffAndExits1() throws {
        let dir = try RepoPaths.temporaryDirectory()
        _ = try Self.config(dir)
        let test = try Self.file(dir, "t.jsonl", """
            {"config": "bridge.conf"}
            \(Self.message)
            {"expect": {"routes": ["commands"], "sinks": {"bot": "Alice: /help", "hooks": {"type": "message:new", "tenant": "org_demo", "id": "evt_1", "timestamp": "2026-11-26T10:00:00.000Z", "data": {"message": {"id":"m1","conversationId":"c1","senderId":"user_alice","type":"TEXT","content":"/help","sender":{"name":"Alice"}}}}}}}
            {"self": "user_bridge"}
            \(Self.ownMessage)
            {"expect": {"routes": []}}
            """)
        let r = try BridgeProcess.run(["test", test])
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAIL \(test):2: message:new evt_1"))
        #expect(r.stdout.contains("- [commands]") && r.stdout.contains("+ [commands, all]"))
        #expect(r.stdout.contains("- \"Alice: /help\"") && r.stdout.contains("+ \"/help\""))
        #expect(!r.stdout.contains("sink hooks"), "a JSON body compares as JSON, key order ignored")
        #expect(!r.stdout.contains(":5:"), "the second case passes")
        #expect(r.stdout.contains("2 tests, 1 failed"))
        let malformed = try Self.file(dir, "m.jsonl", "{\"config\": \"bridge.conf\"}\n{\"expect\": {\"routes\": []}}\n")
        #expect(try BridgeProcess.run(["test", malformed]).status == 65)
    }

    // MARK: help and messages

    @Test(arguments: ["run", "check", "test", "tail", "send", "pipe", "spool", "completion", "man"])
    func everyCommandHasItsOwnHelp(command: String) throws {
        let r = try BridgeProcess.run([command, "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("usage: mojo-bridge \(command) "))
        #expect(!r.stdout.contains("commands:"), "not the global page")
    }

    @Test func typosGetADidYouMean() throws {
        let command = try BridgeProcess.run(["chek"])
        #expect(command.status == 64 && command.stderr.contains("did you mean 'check'?"))
        let option = try BridgeProcess.run(["tail", "--conversatoin", "x"])
        #expect(option.status == 64 && option.stderr.contains("did you mean '--conversation'?"))
        let value = try BridgeProcess.run(["tail", "--url", "ws://127.0.0.1:1", "--transport", "pollin"])
        #expect(value.status == 64 && value.stderr.contains("did you mean `polling`?") && value.stderr.contains("upgrade"))
        let level = try BridgeProcess.run(["run", "--log-level", "warnn"])
        #expect(level.status == 64 && level.stderr.contains("did you mean `warn`?"))
    }

    @Test func warnAndWarningAreBothAcceptedInTheConfig() throws {
        let dir = try RepoPaths.temporaryDirectory()
        for level in ["warn", "warning"] {
            let conf = try Self.file(dir, "\(level).conf", "server { url = \"http://x\" }\ntenant t { token = env:T }\nlog { level = \(level) }\n")
            let r = try BridgeProcess.run(["check", "--no-secrets", "--config", conf])
            #expect(r.status == 0, "\(level): \(r.stderr)")
        }
    }

    @Test func completionAndManAreGeneratedFromTheHelpTable() throws {
        let bash = try BridgeProcess.run(["completion", "bash"])
        #expect(bash.status == 0 && bash.stdout.contains("complete -o default -F _mojo_bridge mojo-bridge"))
        for word in ["--no-secrets", "--expect", "websocket polling upgrade auto", "list retry drop"] {
            #expect(bash.stdout.contains(word), "\(word)")
        }
        // The script is valid bash and completes an option's values.
        let probe = """
            source /dev/stdin <<'EOF'
            \(bash.stdout)
            EOF
            COMP_WORDS=(mojo-bridge tail --transport up); COMP_CWORD=3; _mojo_bridge; echo "${COMPREPLY[*]}"
            COMP_WORDS=(mojo-bridge ch); COMP_CWORD=1; _mojo_bridge; echo "${COMPREPLY[*]}"
            """
        let run = try BridgeProcess.run(["-c", probe], environment: [:], stdin: nil, executable: "/bin/bash")
        #expect(run.stdout == "upgrade\ncheck\n", "\(run.stderr)")
        let zsh = try BridgeProcess.run(["completion", "zsh"])
        #expect(zsh.status == 0 && zsh.stdout.hasPrefix("#compdef mojo-bridge") && zsh.stdout.contains("'*--no-secrets["))
        let man = try BridgeProcess.run(["man"])
        #expect(man.status == 0 && man.stdout.hasPrefix(".TH MOJO\\-BRIDGE 1") && man.stdout.contains("\\-\\-no\\-secrets"))
        #expect(try BridgeProcess.run(["completion", "fish"]).status == 64)
    }

    @Test func spoolListKeepsRowsCleanAndDropOfAnUnknownIdFails() throws {
        let dir = try RepoPaths.temporaryDirectory()
        let conf = try Self.file(dir, "bridge.conf", """
            server { url = "http://127.0.0.1:1" }
            tenant t { token = env:T }
            sink s { type = pipe  command = ["/bin/cat"] }
            route r { to = s }
            spool { dir = "\(dir)/spool" }
            """)
        let list = try BridgeProcess.run(["spool", "--config", conf, "list"])
        #expect(list.status == 0 && list.stdout.isEmpty, "rows only on stdout: \(list.stdout)")
        let json = try BridgeProcess.run(["spool", "--config", conf, "list", "--json"])
        #expect(json.status == 0 && json.stdout.isEmpty)
        let drop = try BridgeProcess.run(["spool", "--config", conf, "drop", "evt_doesnotexist"])
        #expect(drop.status == 1 && drop.stderr.contains("no event `evt_doesnotexist` in the spool"))
        let retry = try BridgeProcess.run(["spool", "--config", conf, "retry", "evt_doesnotexist"])
        #expect(retry.status == 1)
    }
}

extension BridgeProcess {
    /// Runs any executable (bash for the completion probe) to completion.
    static func run(_ arguments: [String], environment: [String: String], stdin: String?, executable: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try BridgeProcess(arguments, environment: environment, executable: executable)
        if let stdin { p.write(stdin) }
        p.closeStdin()
        let status = p.wait(timeout: 20)
        return (status, p.stdout, p.stderr)
    }
}
