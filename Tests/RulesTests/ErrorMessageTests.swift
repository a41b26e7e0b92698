import Testing
@testable import Rules

/// Golden expectations: the full text `mojo-bridge check` prints for each case of ``ErrorCases``.
@Suite struct ErrorMessageTests {
    static let expected: [String: [String]] = [
        "unknown key": [
            #"/etc/mb/bridge.conf:1:26: error: unknown key `tranport` in `server` (hint: did you mean `transport`?)"#,
        ],
        "unknown key no suggestion": [
            #"/etc/mb/bridge.conf:4:21: error: unknown key `zzzzzz` in `route r` (hint: valid keys are tenant, conversation, events, message_type, sender, include_self, content, to, direction, template, continue)"#,
        ],
        "unknown block": [
            #"/etc/mb/bridge.conf:4:1: error: unknown block `sinks` (hint: did you mean `sink`?)"#,
        ],
        "wrong type": [
            #"/etc/mb/bridge.conf:1:16: error: `url` must be a string in double quotes, found the word `ws` (hint: for example `url = "..."`)"#,
        ],
        "bad enum": [
            #"/etc/mb/bridge.conf:4:44: error: unknown value `conversaton` for `per` (hint: did you mean `conversation`?)"#,
        ],
        "bad bool": [
            #"/etc/mb/bridge.conf:4:59: error: `allow_private` must be true or false, found the word `yes` (hint: for example `allow_private = true`)"#,
        ],
        "bad duration unit": [
            #"/etc/mb/bridge.conf:4:53: error: unknown duration unit `y` (hint: use ms, s, m, h or d, e.g. 30s)"#,
        ],
        "bad size": [
            #"/etc/mb/bridge.conf:4:20: error: `max_size` must be a size, found a number (hint: for example `max_size = 64MiB`)"#,
        ],
        "bad url": [
            #"/etc/mb/bridge.conf:4:31: error: `url` must be a URL (http, https), found "ftp://x" (hint: for example "http://host:port")"#,
        ],
        "missing key": [
            #"/etc/mb/bridge.conf:4:1: error: `sink p` is missing `command` (hint: add `command = ["..."]`)"#,
        ],
        "missing type": [
            #"/etc/mb/bridge.conf:4:1: error: `sink p` is missing `type` (hint: add `type = pipe | webhook | email`)"#,
        ],
        "duplicate key": [
            #"/etc/mb/bridge.conf:5:3: error: duplicate key `to` (hint: it is already set at line 4; a list takes several values)"#,
        ],
        "duplicate name": [
            #"/etc/mb/bridge.conf:4:6: error: duplicate `sink bot` (hint: it is already defined at /etc/mb/bridge.conf:3:1)"#,
        ],
        "duplicate singleton": [
            #"/etc/mb/bridge.conf:5:1: error: duplicate `log` (hint: it is already defined at /etc/mb/bridge.conf:4:1)"#,
        ],
        "singleton with name": [
            #"/etc/mb/bridge.conf:4:5: error: `log` takes no name, found `main` (hint: write `log {`)"#,
        ],
        "block without name": [
            #"/etc/mb/bridge.conf:4:1: error: `route` needs a name (hint: write `route name {`)"#,
        ],
        "unknown sink": [
            #"/etc/mb/bridge.conf:4:16: error: route `r` sends to unknown sink `boot` (hint: did you mean `bot`?)"#,
        ],
        "unknown tenant": [
            #"/etc/mb/bridge.conf:4:29: error: route names unknown tenant `org_dem` (hint: did you mean `org_demo`?)"#,
        ],
        "bad regex": [
            #"/etc/mb/bridge.conf:4:31: error: invalid regular expression /(help/: missing `)` for the group opened here (hint: close the group, or write a literal parenthesis as \()"#,
        ],
        "regex lookahead": [
            #"/etc/mb/bridge.conf:4:34: error: invalid regular expression /foo(?=bar)/: lookahead and lookbehind are not supported (hint: match the text itself, or use two routes (one with continue = true))"#,
        ],
        "regex backreference": [
            #"/etc/mb/bridge.conf:4:34: error: invalid regular expression /(a)\1/: backreferences are not supported (hint: the matcher runs in linear time and cannot compare captures; write a digit as [1])"#,
        ],
        "duration too long": [
            #"/etc/mb/bridge.conf:1:44: error: `connect_timeout` is too long: `9999999999999999d` (hint: durations are at most 365d)"#,
        ],
        "number too large": [
            #"/etc/mb/bridge.conf:1:44: error: number `99999999999999999999` is too large (hint: durations are at most 365d, sizes at most 1024GiB)"#,
        ],
        "size too large": [
            #"/etc/mb/bridge.conf:4:20: error: `max_size` is too large: `9999999999GiB` (hint: sizes are at most 1024GiB)"#,
        ],
        "nesting too deep": [
            #"/etc/mb/bridge.conf:4:61: error: value nested too deeply (more than 32 levels) (hint: lists and references nest at most 32 deep)"#,
        ],
        "run of bad characters": [
            #"/etc/mb/bridge.conf:4:20: error: unexpected character `@` (hint: values are strings in double quotes, words, numbers, lists in [ ] or /regex/)"#,
            #"/etc/mb/bridge.conf:4:24: error: unexpected character `!` (hint: values are strings in double quotes, words, numbers, lists in [ ] or /regex/)"#,
        ],
        "bad regex flag": [
            #"/etc/mb/bridge.conf:4:30: error: unknown regular expression flag `q` (hint: flags are i (ignore case), m (multi-line), s (dot matches newline), x (extended))"#,
        ],
        "unknown event kind": [
            #"/etc/mb/bridge.conf:4:29: error: unknown event kind `mesage` (hint: did you mean `message`?)"#,
        ],
        "literal secret": [
            #"/etc/mb/bridge.conf:4:52: error: `secret` must not be written in the file (hint: secrets are given by reference: env:NAME or file:PATH)"#,
        ],
        "unset env": [
            #"/etc/mb/bridge.conf:4:52: error: environment variable NOPE is not set (hint: export NOPE before starting, or use file:PATH)"#,
        ],
        "unreadable file secret": [
            #"/etc/mb/bridge.conf:4:52: error: cannot read secret file /etc/mb/missing.key: No such file or directory (hint: paths are relative to the directory of the file they are written in)"#,
        ],
        "command not allowed": [
            #"/etc/mb/bridge.conf:4:52: error: `command:` is not a valid reference for `secret` (hint: use env:NAME or file:PATH)"#,
        ],
        "unknown scheme": [
            #"/etc/mb/bridge.conf:4:21: error: `fil:` is not a valid reference for `token` (hint: did you mean `file:`?)"#,
        ],
        "empty command": [
            #"/etc/mb/bridge.conf:4:21: error: `command:` needs a program (hint: command:["prog", "arg"])"#,
        ],
        "bad template field": [
            #"/etc/mb/bridge.conf:4:36: error: unknown template field `{sender.nam}` (hint: did you mean `{sender.name}`?)"#,
        ],
        "unmatched brace": [
            #"/etc/mb/bridge.conf:4:34: error: unmatched `}` in template (hint: write a literal brace as `}}`)"#,
        ],
        "unclosed brace": [
            #"/etc/mb/bridge.conf:4:34: error: unclosed `{` in template (hint: close the field with `}` or write a literal brace as `{{`)"#,
        ],
        "unterminated string": [
            #"/etc/mb/bridge.conf:4:31: error: unterminated string (hint: close it with `"` on the same line)"#,
            #"/etc/mb/bridge.conf:4:36: error: unmatched `}` in template (hint: write a literal brace as `}}`)"#,
            #"/etc/mb/bridge.conf:4:37: error: unexpected end of file inside a block (hint: close the block with `}`)"#,
        ],
        "unknown escape": [
            #"/etc/mb/bridge.conf:4:33: error: unknown escape `\q` in string (hint: the escapes are \" \\ \n \t)"#,
        ],
        "missing equals": [
            #"/etc/mb/bridge.conf:4:1: error: `route r` is missing `to` (hint: add `to = ["..."]`)"#,
            #"/etc/mb/bridge.conf:4:14: error: expected `=` after `to`, found `bot` (hint: write `to = value`)"#,
        ],
        "missing value": [
            #"/etc/mb/bridge.conf:4:1: error: `route r` is missing `to` (hint: add `to = ["..."]`)"#,
            #"/etc/mb/bridge.conf:4:16: error: expected a value, found `}` (hint: a value is a "string", a word, a number, a duration, a size, a [list], a /regex/ or env:/file:/command:)"#,
        ],
        "bad list": [
            #"/etc/mb/bridge.conf:4:1: error: `route r` is missing `to` (hint: add `to = ["..."]`)"#,
            #"/etc/mb/bridge.conf:4:21: error: expected `,` or `]` in list, found `bot` (hint: separate list items with commas)"#,
        ],
        "unexpected character": [
            #"/etc/mb/bridge.conf:4:20: error: unexpected character `;` (hint: values are strings in double quotes, words, numbers, lists in [ ] or /regex/)"#,
        ],
        "unterminated block": [
            #"/etc/mb/bridge.conf:4:19: error: unexpected end of file inside a block (hint: close the block with `}`)"#,
        ],
        "bad listen": [
            #"/etc/mb/bridge.conf:4:18: error: `listen` must be host:port, found "localhost" (hint: for example "127.0.0.1:9090" or "[::1]:9090")"#,
        ],
        "bad queue": [
            #"/etc/mb/bridge.conf:4:46: error: `queue` must be between 1 and 1000000, found 0"#,
        ],
        "unreadable ca": [
            #"/etc/mb/bridge.conf:1:35: error: cannot read `ca_file` file /etc/mb/nope.pem: No such file or directory (hint: paths are relative to the directory of the file they are written in)"#,
        ],
        "several errors": [
            #"/etc/mb/bridge.conf:4:16: error: route `a` sends to unknown sink `nobody` (hint: valid sinks are bot)"#,
            #"/etc/mb/bridge.conf:5:21: error: unknown key `contnue` in `route b` (hint: did you mean `continue`?)"#,
        ],
    ]

    @Test(arguments: ErrorCases.cases.map(\.name))
    func golden(_ name: String) throws {
        let text = try #require(ErrorCases.cases.first { $0.name == name }?.text)
        #expect(Fixtures.errors(ErrorCases.source(text)) == ErrorMessageTests.expected[name])
    }

    @Test func everyCaseHasAGoldenAndEveryErrorAHint() {
        #expect(Set(ErrorCases.cases.map(\.name)) == Set(ErrorMessageTests.expected.keys))
        for (name, lines) in ErrorMessageTests.expected where name != "bad queue" {
            #expect(!lines.isEmpty, "\(name)")
            #expect(lines.allSatisfy { $0.contains(": error: ") && $0.hasSuffix(")") && $0.contains("(hint: ") }, "\(name)")
        }
    }

    @Test func descriptionFormat() {
        let at = SourceLocation(file: "a.conf", line: 3, column: 7)
        #expect(ConfigError(at, "boom", hint: "fix it").description == "a.conf:3:7: error: boom (hint: fix it)")
        #expect(ConfigError(at, "boom").description == "a.conf:3:7: error: boom")
        #expect(ConfigErrors([ConfigError(at, "a"), ConfigError(at, "b")]).description == "a.conf:3:7: error: a\na.conf:3:7: error: b")
    }

    @Test func missingServerAndTenant() {
        #expect(Fixtures.errors("") == [
            #"/etc/mb/bridge.conf:1:1: error: no `server` block and MOJO_URL is not set (hint: add server { url = "wss://messaging.mojo-institut.de" } or export MOJO_URL)"#,
            #"/etc/mb/bridge.conf:1:1: error: no `tenant` block and neither MOJO_TENANTS nor MOJO_TENANT is set (hint: add tenant org_id { token = file:/run/secrets/mojo-token } or export MOJO_TENANTS=org_a,org_b and MOJO_TOKEN_FILE=/run/secrets/mojo/{tenant})"#,
        ])
    }

    @Test func missingMainFile() {
        let result = ConfigLoader.load(path: "/nowhere.conf", env: Fixtures.env())
        guard case .failure(let errors) = result else { Issue.record("loaded"); return }
        #expect(errors.map(\.description) == [
            "/nowhere.conf:1:1: error: cannot read /nowhere.conf: No such file or directory (hint: check the --config path)",
        ])
    }

    @Test func invalidUTF8() {
        let env = ConfigEnvironment(readFile: { _ in .success([0x66, 0xFF]) }, listDirectory: { _ in .success([]) },
                                    environment: { _ in nil })
        guard case .failure(let errors) = ConfigLoader.load(path: "x.conf", env: env) else { Issue.record("loaded"); return }
        #expect(errors.map(\.description) == ["x.conf:1:1: error: x.conf is not valid UTF-8 (hint: save the file as UTF-8)"])
    }
}
