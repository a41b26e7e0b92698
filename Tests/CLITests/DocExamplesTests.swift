import Foundation
import JSON
import Testing
import TestSupport

/// The documentation's examples run as written. A fenced block is run when the line before it is
/// an HTML comment (invisible on GitHub):
///
/// - `<!-- doc-test -->`: a shell block, run with `bash -e` in a directory that looks like the
///   repository (`Bridges`, `Config`, and `.demo/state/bridge.token` holding a fresh token), with
///   the built `mojo-bridge` first on PATH; must exit 0.
/// - `<!-- doc-test: config -->`: a configuration, written to `bridge.conf` there (with an empty
///   `rules.d/`) and checked with `check --no-secrets` (`--fragment` when it has no server block).
/// - `<!-- doc-test: background; post "TEXT"; expect-reply "PREFIX" -->`: a long-running shell
///   block; once the bridge user joined the demo conversation, TEXT is posted there as Alice and
///   a reply starting with PREFIX must come back; then the block is stopped.
///
/// The demo's server address, `127.0.0.1:3020`, is replaced with the test's dev server.
@Suite(.serialized) struct DocExamplesTests {
    struct Example: CustomStringConvertible {
        var file: String
        var line: Int
        var mode: String
        var body: String
        var description: String { "\(file):\(line) (\(mode))" }
    }

    static let documents = ["README.md", "Bridges/README.md", "Config/GRAMMAR.md"]

    static func examples() -> [Example] {
        var out: [Example] = []
        for doc in documents {
            guard let text = try? String(contentsOfFile: RepoPaths.root + "/" + doc, encoding: .utf8) else { continue }
            let lines = text.components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                let l = lines[i].trimmingCharacters(in: .whitespaces)
                if l.hasPrefix("<!-- doc-test"), l.hasSuffix("-->"), i + 1 < lines.count, lines[i + 1].hasPrefix("```") {
                    var mode = String(l.dropFirst("<!-- doc-test".count).dropLast(3)).trimmingCharacters(in: .whitespaces)
                    if mode.hasPrefix(":") { mode = String(mode.dropFirst()).trimmingCharacters(in: .whitespaces) }
                    var body: [String] = []
                    var j = i + 2
                    while j < lines.count, !lines[j].hasPrefix("```") { body.append(lines[j]); j += 1 }
                    out.append(Example(file: doc, line: i + 2, mode: mode.isEmpty ? "run" : mode, body: body.joined(separator: "\n")))
                    i = j
                }
                i += 1
            }
        }
        return out
    }

    @Test func theDocumentsHaveRunnableExamples() {
        let all = Self.examples()
        #expect(all.contains { $0.file == "README.md" && $0.mode == "run" })
        #expect(all.contains { $0.file == "README.md" && $0.mode == "config" })
        #expect(all.contains { $0.file == "Bridges/README.md" && $0.mode.hasPrefix("background") })
        #expect(all.contains { $0.file == "Config/GRAMMAR.md" && $0.mode == "config" })
    }

    /// A directory shaped like the repository, with a fresh token where the demo keeps it.
    static func workspace(_ world: DemoWorld) throws -> String {
        let dir = try RepoPaths.temporaryDirectory("mojo-doc")
        let fm = FileManager.default
        for name in ["Bridges", "Config"] {
            try fm.createSymbolicLink(atPath: dir + "/" + name, withDestinationPath: RepoPaths.root + "/" + name)
        }
        try fm.createDirectory(atPath: dir + "/.demo/state", withIntermediateDirectories: true)
        try fm.copyItem(atPath: try world.tokenFile(), toPath: dir + "/.demo/state/bridge.token")
        return dir
    }

    static func shell(_ example: Example, in dir: String, world: DemoWorld) -> String {
        let bin = (RepoPaths.bridgeExecutable as NSString).deletingLastPathComponent
        let host = world.url.replacingOccurrences(of: "http://", with: "")
        let body = example.body.replacingOccurrences(of: "127.0.0.1:3020", with: host)
        return "set -e\ncd '\(dir)'\nexport PATH='\(bin)':\"$PATH\"\n" + body + "\n"
    }

    @Test(arguments: examples().filter { $0.mode == "run" })
    func shellExampleRuns(_ example: Example) throws {
        let world = DemoWorld.shared
        let dir = try Self.workspace(world)
        let r = try BridgeProcess.run(["-c", Self.shell(example, in: dir, world: world)], environment: [:], stdin: nil, executable: "/bin/bash")
        #expect(r.status == 0, "\(example): \(r.stdout)\(r.stderr)")
    }

    @Test(arguments: examples().filter { $0.mode == "config" })
    func configExampleChecks(_ example: Example) throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-doc")
        try FileManager.default.createDirectory(atPath: dir + "/rules.d", withIntermediateDirectories: true)
        let path = dir + "/bridge.conf"
        try example.body.write(toFile: path, atomically: true, encoding: .utf8)
        let fragment = !example.body.contains("server {")
        let r = try BridgeProcess.run(["check", "--no-secrets", "--config", path] + (fragment ? ["--fragment"] : []))
        #expect(r.status == 0, "\(example): \(r.stderr)")
    }

    @Test(arguments: examples().filter { $0.mode.hasPrefix("background") })
    func longRunningExampleAnswers(_ example: Example) throws {
        let world = DemoWorld.shared
        let dir = try Self.workspace(world)
        let quoted = example.mode.components(separatedBy: "\"")
        guard quoted.count >= 5 else { Issue.record("\(example): write post \"TEXT\"; expect-reply \"PREFIX\""); return }
        let (text, prefix) = (quoted[1], quoted[3])
        let conversation = "11111111-1111-4111-8111-111111111111"
        let since = try world.latestEventSeq()
        // exec: the block's last command replaces bash, so stopping the process stops the example.
        var script = Self.shell(example, in: dir, world: world)
        if let range = script.range(of: "\nmojo-bridge ", options: .backwards) { script.replaceSubrange(range, with: "\nexec mojo-bridge ") }
        let p = try BridgeProcess(["-c", script], executable: "/bin/bash")
        defer { p.signal(SIGTERM); _ = p.wait() }
        let joined = try world.awaitClientEvents(since: since, name: "conversation:join") {
            $0["userId"]?.stringValue == DemoWorld.bridgeUser && $0["data"]?["conversationId"]?.stringValue == conversation
        }
        #expect(!joined.isEmpty, "\(example): never joined: \(p.stderr)")
        let posted = try world.latestEventSeq()
        try world.post(text, to: conversation)
        let replies = try world.awaitClientEvents(since: posted, name: "message:send") {
            $0["userId"]?.stringValue == DemoWorld.bridgeUser && $0["data"]?["conversationId"]?.stringValue == conversation
                && ($0["data"]?["content"]?.stringValue ?? "").hasPrefix(prefix)
        }
        #expect(!replies.isEmpty, "\(example): no reply starting with \(prefix): \(p.stderr)")
    }
}
