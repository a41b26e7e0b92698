/// Inputs for the golden error tests: each is appended to `Fixtures.header` (3 lines), so its
/// first line is line 4 of /etc/mb/bridge.conf; a case starting with `server` stands alone
/// (followed by a tenant line).
enum ErrorCases {
    static func source(_ text: String) -> String {
        text.hasPrefix("server") ? text + "\ntenant org_demo { token = env:MOJO_TOKEN }" : Fixtures.header + text
    }

    static let cases: [(name: String, text: String)] = [
        ("unknown key", "server { url = \"ws://x\"  tranport = auto }"),
        ("unknown key no suggestion", "route r { to = bot  zzzzzz = 1 }"),
        ("unknown block", "sinks x { type = pipe }"),
        ("wrong type", "server { url = ws }"),
        ("bad enum", "sink p { type = pipe command = [\"x\"] per = conversaton }"),
        ("bad bool", "sink h { type = webhook url = \"https://x\" allow_private = yes }"),
        ("bad duration unit", "sink h { type = webhook url = \"https://x\" timeout = 5y }"),
        ("bad size", "spool { max_size = 12 }"),
        ("bad url", "sink h { type = webhook url = \"ftp://x\" }"),
        ("missing key", "sink p { type = pipe }"),
        ("missing type", "sink p { command = [\"x\"] }"),
        ("duplicate key", "route r { to = bot\n  to = bot }"),
        ("duplicate name", "sink bot { type = pipe command = [\"y\"] }"),
        ("duplicate singleton", "log { }\nlog { level = info }"),
        ("singleton with name", "log main { level = info }"),
        ("block without name", "route { to = bot }"),
        ("unknown sink", "route r { to = [bot, boot] }"),
        ("unknown tenant", "route r { to = bot tenant = org_dem }"),
        ("bad regex", "route r { to = bot content = /(help/ }"),
        ("bad regex flag", "route r { to = bot content = /x/q }"),
        ("regex lookahead", "route r { to = bot content = /foo(?=bar)/ }"),
        ("regex backreference", "route r { to = bot content = /(a)\\1/ }"),
        ("duration too long", "server { url = \"ws://x\"  connect_timeout = 9999999999999999d }"),
        ("number too large", "server { url = \"ws://x\"  connect_timeout = 99999999999999999999d }"),
        ("size too large", "spool { max_size = 9999999999GiB }"),
        ("nesting too deep", "route r { to = bot sender = " + String(repeating: "[", count: 40) + "\"x\"" + String(repeating: "]", count: 40) + " }"),
        ("run of bad characters", "route r { to = bot @@@ !! }"),
        ("unknown event kind", "route r { to = bot events = [mesage] }"),
        ("literal secret", "sink h { type = webhook url = \"https://x\" secret = \"whsec_abc\" }"),
        ("unset env", "sink h { type = webhook url = \"https://x\" secret = env:NOPE }"),
        ("unreadable file secret", "sink h { type = webhook url = \"https://x\" secret = file:missing.key }"),
        ("command not allowed", "sink h { type = webhook url = \"https://x\" secret = command:[\"x\"] }"),
        ("unknown scheme", "tenant t2 { token = fil:/x }"),
        ("empty command", "tenant t2 { token = command:[] }"),
        ("bad template field", "route r { to = bot template = \"hi {sender.nam}\" }"),
        ("unmatched brace", "route r { to = bot template = \"a } b\" }"),
        ("unclosed brace", "route r { to = bot template = \"a {content\" }"),
        ("unterminated string", "route r { to = bot template = \"abc }"),
        ("unknown escape", "route r { to = bot template = \"a\\qb\" }"),
        ("missing equals", "route r { to bot }"),
        ("missing value", "route r { to = }"),
        ("bad list", "route r { to = [bot bot] }"),
        ("unexpected character", "route r { to = bot ; }"),
        ("unterminated block", "route r { to = bot"),
        ("bad listen", "admin { listen = \"localhost\" }"),
        ("bad queue", "sink q { type = pipe command = [\"x\"] queue = 0 }"),
        ("unreadable ca", "server { url = \"ws://x\" ca_file = \"nope.pem\" }"),
        ("several errors", "route a { to = nobody }\nroute b { to = bot  contnue = true }"),
    ]
}
