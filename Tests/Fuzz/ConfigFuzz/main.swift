// libFuzzer entry for the configuration language: lexer, parser, include resolver and builder.
// Built by Tests/Fuzz/run.sh together with Sources/Rules/*.swift and Tests/Fuzz/Common/*.swift,
// against Sources/JSON compiled as its own module (not a SwiftPM target).

/// Files beside the fuzzed one: includes of them (and of the fuzzed file itself) are resolved.
private let files: [String: String] = [
    "/etc/mb/rules.d/10.rules": "route a { to = bot content = /^help\\b/i template = \"{sender.name}: {content}\" }\n",
    "/etc/mb/rules.d/20.rules": "route b { to = [bot] sender = \"u*\" continue = true }\n",
    "/etc/mb/secret.key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
]
private let env = ConfigEnvironment.inMemory(files: files, variables: ["MOJO_TOKEN": "jwt", "WEBHOOK_SECRET": "whsec_x"])

/// Loads the input as `/etc/mb/bridge.conf`: it must not crash, and every error must carry a
/// real location (a known file, line and column from 1) and a message. A loaded config's
/// content patterns must run on a sample text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }

    var lexer = Lexer(text: text, file: "/etc/mb/bridge.conf")
    let tokens = lexer.tokenize()
    guard tokens.last?.kind == .end else { fuzzFailure("tokens do not end with .end") }
    var previous = SourceLocation(file: "/etc/mb/bridge.conf", line: 1, column: 1)
    for token in tokens {
        let at = token.location
        guard at.line > previous.line || (at.line == previous.line && at.column >= previous.column) else {
            fuzzFailure("token locations go backwards: \(previous) then \(at)")
        }
        previous = at
    }

    var all = files
    all["/etc/mb/bridge.conf"] = text
    switch ConfigLoader.load(path: "/etc/mb/bridge.conf", env: .inMemory(files: all, variables: ["MOJO_TOKEN": "jwt"])) {
    case .failure(let errors):
        guard !errors.errors.isEmpty else { fuzzFailure("failure without errors") }
        for error in errors.errors {
            guard all[error.location.file] != nil, error.location.line >= 1, error.location.column >= 1, !error.message.isEmpty else {
                fuzzFailure("bad error: \(error)")
            }
        }
    case .success(let config):
        for route in config.routes {
            _ = route.content?.matches("help me, " + String(repeating: "a", count: 40) + "!")
        }
    }
    _ = ConfigLoader.parse(text: text, file: "/etc/mb/other.conf", env: env)
    return 0
}
