import Testing
import TestSupport

@Suite struct CLIBasicsTests {
    @Test func helpListsCommandsAndExitsZero() throws {
        let r = try BridgeProcess.run(["--help"])
        #expect(r.status == 0)
        for word in ["run", "check", "tail", "send", "pipe", "--token-file", "--token-command"] { #expect(r.stdout.contains(word)) }
    }

    @Test(arguments: [["tail", "--help"], ["run", "-h"], ["pipe", "--url", "ws://127.0.0.1:1", "--help", "--", "cat"]])
    func helpAfterACommandShowsTheUsage(args: [String]) throws {
        let r = try BridgeProcess.run(args)
        #expect(r.status == 0)
        #expect(r.stdout.contains("usage: mojo-bridge"))
    }

    @Test func helpAfterTheDoubleDashBelongsToThePipeChild() throws {
        // `--help` after `--` is the child's argument: the command itself runs, and stops at once
        // because no token is configured.
        let r = try BridgeProcess.run(["pipe", "--url", "ws://127.0.0.1:1", "--tenant", "org_x", "--", "cat", "--help"])
        #expect(r.status == 78)
        #expect(r.stderr.contains("MOJO_TOKEN is unset"))
        #expect(!r.stdout.contains("usage: mojo-bridge"))
    }

    @Test func versionPrintsTheVersion() throws {
        let r = try BridgeProcess.run(["--version"])
        #expect(r.status == 0 && r.stdout.hasPrefix("mojo-bridge "))
    }

    @Test(arguments: [["frobnicate"], ["--frob"], ["tail", "--frob"], ["send", "--url"], []])
    func usageErrorsExit64(args: [String]) throws {
        let r = try BridgeProcess.run(args)
        #expect(r.status == 64)
        #expect(!r.stderr.isEmpty)
    }

    @Test func aTokenIsNeverTakenAsAnArgument() throws {
        let r = try BridgeProcess.run(["tail", "--url", "ws://127.0.0.1:1", "--token", "eyJ.x.y"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("never taken on the command line"))
    }

    @Test func missingTokenIsAConfigError() throws {
        let r = try BridgeProcess.run(["tail", "--url", "ws://127.0.0.1:1", "--tenant", "org_x"])
        #expect(r.status == 78)
        #expect(r.stderr.contains("MOJO_TOKEN is unset"))
    }
}
