import Testing
@testable import Rules

@Suite struct IncludeTests {
    @Test func globIncludesInByteOrderAndInPlace() throws {
        let text = Fixtures.header + """
        route first { to = bot }
        include "rules.d/*.rules"
        route last { to = bot }
        """
        let files = [
            "/etc/mb/rules.d/20-b.rules": "route b { to = bot }",
            "/etc/mb/rules.d/10-a.rules": "route a { to = bot }\ninclude \"../extra/c.inc\"",
            "/etc/mb/rules.d/.hidden.rules": "route hidden { to = bot }",
            "/etc/mb/rules.d/notes.txt": "not rules",
            "/etc/mb/extra/c.inc": "route c { to = bot }",
        ]
        let config = try Fixtures.load(text, files: files).get()
        #expect(config.routes.map(\.name) == ["first", "a", "c", "b", "last"])
        #expect(config.files == ["/etc/mb/bridge.conf", "/etc/mb/rules.d/10-a.rules", "/etc/mb/extra/c.inc",
                                 "/etc/mb/rules.d/20-b.rules"])
        #expect(config.routes[1].location == SourceLocation(file: "/etc/mb/rules.d/10-a.rules", line: 1, column: 1))
    }

    @Test func globMatchingNothingIsFine() throws {
        let files = ["/etc/mb/rules.d/readme.md": "x"]
        let config = try Fixtures.load(Fixtures.header + "include \"rules.d/*.rules\"", files: files).get()
        #expect(config.routes.isEmpty)
    }

    @Test func missingIncludeAndDirectory() {
        #expect(Fixtures.errors(Fixtures.header + "include \"gone.rules\"\ninclude \"nodir/*.rules\"") == [
            "/etc/mb/bridge.conf:4:1: error: cannot read /etc/mb/gone.rules: No such file or directory (hint: include paths are relative to the including file)",
            "/etc/mb/bridge.conf:5:1: error: cannot list /etc/mb/nodir: No such file or directory (hint: include paths are relative to the including file)",
        ])
    }

    @Test func cycle() {
        let files = ["/etc/mb/a.rules": "include \"b.rules\"", "/etc/mb/b.rules": "route r { to = bot }\ninclude \"a.rules\""]
        #expect(Fixtures.errors(Fixtures.header + "include \"a.rules\"", files: files) == [
            "/etc/mb/b.rules:2:1: error: include cycle: /etc/mb/a.rules -> /etc/mb/b.rules -> /etc/mb/a.rules (hint: remove one of these includes)",
        ])
        #expect(Fixtures.errors(Fixtures.header + "include \"bridge.conf\"") == [
            "/etc/mb/bridge.conf:4:1: error: include cycle: /etc/mb/bridge.conf -> /etc/mb/bridge.conf (hint: remove one of these includes)",
        ])
    }

    @Test func includedTwice() {
        let files = ["/etc/mb/rules.d/a.rules": "route a { to = bot }"]
        #expect(Fixtures.errors(Fixtures.header + "include \"rules.d/*.rules\"\ninclude \"rules.d/a.rules\"", files: files) == [
            "/etc/mb/bridge.conf:5:1: error: /etc/mb/rules.d/a.rules is already included (hint: first included at /etc/mb/bridge.conf:4:1)",
        ])
    }

    @Test func wildcardInDirectoryPart() {
        #expect(Fixtures.errors(Fixtures.header + "include \"*/x.rules\"") == [
            "/etc/mb/bridge.conf:4:1: error: wildcards are allowed only in the file name of an include (hint: write include \"dir/*.rules\", not include \"*/x.rules\")",
        ])
    }

    @Test func errorsInIncludedFilesCarryTheirPathAndSortByReadingOrder() {
        let files = ["/etc/mb/rules.d/x.rules": "\nroute x { to = nope }"]
        #expect(Fixtures.errors(Fixtures.header + "include \"rules.d/x.rules\"\nroute y { to = bot  bad = 1 }", files: files) == [
            "/etc/mb/bridge.conf:5:21: error: unknown key `bad` in `route y` (hint: valid keys are tenant, conversation, events, message_type, sender, include_self, content, to, direction, template, continue)",
            "/etc/mb/rules.d/x.rules:2:16: error: route `x` sends to unknown sink `nope` (hint: valid sinks are bot)",
        ])
    }

    @Test func badIncludeSyntax() {
        #expect(Fixtures.errors(Fixtures.header + "include rules.d") == [
            "/etc/mb/bridge.conf:4:9: error: expected a quoted path after `include`, found `rules.d` (hint: include \"rules.d/*.rules\")",
        ])
    }

    @Test func relativeMainFile() throws {
        let env = Fixtures.env(["cfg/bridge.conf": Fixtures.header + "include \"rules.d/*.rules\"",
                                "cfg/rules.d/a.rules": "route a { to = bot }"])
        let config = try ConfigLoader.load(path: "cfg/bridge.conf", env: env).get()
        #expect(config.files == ["cfg/bridge.conf", "cfg/rules.d/a.rules"])
    }

    @Test func parseTextResolvesIncludesBesideTheNamedFile() throws {
        let env = Fixtures.env(["/srv/r.rules": "route a { to = bot }"], variables: Fixtures.variables)
        let config = try ConfigLoader.parse(text: Fixtures.header + "include \"r.rules\"", file: "/srv/main.conf", env: env).get()
        #expect(config.routes.map(\.name) == ["a"])
        #expect(config.files == ["/srv/main.conf", "/srv/r.rules"])
    }
}
