import Testing
@testable import Rules

/// The linear-time `content` matcher: agreement with Python's `re` on a generated table,
/// linear step counts on the patterns that make backtracking engines explode, and the
/// constructs it refuses.
@Suite struct RegexTests {
    @Test func agreesWithPythonOnTheOracleTable() throws {
        var disagreements: [String] = []
        for row in RegexOracleTable.rows {
            let program = try RegexProgram(pattern: row.pattern, flags: row.flags)
            if program.matches(row.text) != row.matches {
                disagreements.append("/\(row.pattern)/\(row.flags) on \(row.text.debugDescription): Python says \(row.matches)")
            }
        }
        #expect(RegexOracleTable.rows.count > 2000)
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(10))")
    }

    /// Steps for `pattern` on `text(n)` at n and 4n: a linear matcher takes about 4 times as
    /// many; a backtracking one takes 2^(3n) times as many.
    private func growth(_ pattern: String, _ text: (Int) -> String) throws -> Double {
        let program = try RegexProgram(pattern: pattern, flags: "")
        let small = program.run(text(25)).steps
        let large = program.run(text(100)).steps
        return Double(large) / Double(small)
    }

    @Test(arguments: [#"^(a+)+$"#, #"(a|aa)+$"#, #"(a*)*b"#, #"^(\w+\s?)*$"#, #"(.*a){12}"#, #"(a|a?)+c"#])
    func pathologicalPatternsRunInLinearSteps(_ pattern: String) throws {
        let ratio = try growth(pattern) { String(repeating: "a", count: $0) + "!" }
        #expect(ratio < 4.5, "steps grew \(ratio)x for 4x the text")
    }

    @Test func theIssuePatternAnswersAtOnce() throws {
        let program = try RegexProgram(pattern: #"^(a+)+$"#, flags: "")
        let run = program.run(String(repeating: "a", count: 28) + "!")
        #expect(!run.matched)
        #expect(run.steps < 2_000)
        #expect(program.matches(String(repeating: "a", count: 28)))
    }

    @Test func largeTextsStayBounded() throws {
        let program = try RegexProgram(pattern: #"(x+x+)+y"#, flags: "")
        let text = String(repeating: "x", count: 20_000)
        let run = program.run(text)
        #expect(!run.matched)
        #expect(run.steps <= (text.count + 1) * program.instructions.count * 2)
    }

    static let refused: [(pattern: String, message: String)] = [
        (#"(a)\1"#, "backreferences are not supported"),
        (#"(?P<x>a)(?P=x)"#, "backreferences are not supported"),
        (#"\k<x>"#, "backreferences are not supported"),
        (#"foo(?=bar)"#, "lookahead and lookbehind are not supported"),
        (#"foo(?!bar)"#, "lookahead and lookbehind are not supported"),
        (#"(?<=a)b"#, "lookahead and lookbehind are not supported"),
        (#"(?<!a)b"#, "lookahead and lookbehind are not supported"),
        (#"(?>a+)b"#, "atomic groups are not supported"),
        (#"a++b"#, "possessive quantifiers are not supported"),
        (#"\p{L}"#, #"Unicode property classes (\p{...}) are not supported"#),
        (#"[[:alpha:]]"#, "nested classes and POSIX classes ([:alpha:]) are not supported"),
        (#"(help"#, "missing `)` for the group opened here"),
        (#"help)"#, "unbalanced `)`"),
        (#"[abc"#, "missing `]` for the class opened here"),
        (#"*a"#, "nothing to repeat before `*`"),
        (#"a**"#, "multiple repeat: a quantifier follows a quantifier"),
        (#"a{5,2}"#, "repeat range {5,2} is out of order"),
        (#"a{2000}"#, "repeat count over 1000"),
        (#"[z-a]"#, "class range z-a is out of order"),
        (#"[\d-z]"#, "a class escape cannot start a range"),
        (#"\q"#, #"unknown escape `\q`"#),
        (#"abc\"#, "pattern ends with a lone backslash"),
        (#"(?z)"#, "unsupported group syntax"),
        (#"(a{1000}){1000}"#, "regular expression too large (over 10000 steps once repeats are expanded)"),
    ]

    @Test(arguments: refused.indices)
    func refusesWhatNeedsBacktracking(_ i: Int) {
        let (pattern, message) = RegexTests.refused[i]
        #expect(throws: RegexSyntaxError.self) { try RegexProgram(pattern: pattern, flags: "") }
        do {
            _ = try RegexProgram(pattern: pattern, flags: "")
        } catch {
            #expect(error.message == message)
            #expect(error.offset >= 0 && error.offset <= pattern.unicodeScalars.count)
        }
    }

    @Test func deepGroupsAreRefusedNotAStackOverflow() {
        let pattern = String(repeating: "(", count: 5_000) + "a" + String(repeating: ")", count: 5_000)
        #expect(throws: RegexSyntaxError.self) { try RegexProgram(pattern: pattern, flags: "") }
    }
}
