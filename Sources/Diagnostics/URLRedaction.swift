/// URLs as they may appear in logs, error messages and `spool list`: the query, the fragment and
/// user information dropped, and path segments that look like secrets masked. Webhook URLs often
/// carry a credential (`https://hooks.slack.com/services/T0/B0/<secret>`, `?token=...`); every
/// line that prints a URL goes through ``redact(_:)``.
public enum URLRedaction {
    /// What replaces a secret-looking path segment, the query or the user information.
    public static let mask = "[redacted]"

    /// `https://user:pw@host/services/T0/B0/abcdefGHIJ123456?token=x#f` becomes
    /// `https://[redacted]@host/services/T0/B0/[redacted]?[redacted]`. Text that is not a URL with
    /// `scheme://` is returned unchanged, except for a query.
    public static func redact(_ url: String) -> String {
        var text = Substring(url)
        var hadQuery = false
        if let hash = text.firstIndex(of: "#") { text = text[..<hash] }
        if let q = text.firstIndex(of: "?") { text = text[..<q]; hadQuery = true }
        var out = ""
        if let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://"),
           text[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) {
            let rest = text.index(colon, offsetBy: 3)
            out = String(text[..<rest])
            text = text[rest...]
            let authorityEnd = text.firstIndex(of: "/") ?? text.endIndex
            var authority = text[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                out += mask + "@"
                authority = authority[authority.index(after: at)...]
            }
            out += authority
            text = text[authorityEnd...]
            out += text.split(separator: "/", omittingEmptySubsequences: false)
                .map { looksSecret($0) ? mask : String($0) }.joined(separator: "/")
        } else {
            out = String(text)
        }
        if hadQuery { out += "?" + mask }
        return out
    }

    /// A path segment that looks like a credential: at least 16 characters of a token alphabet
    /// with letters and digits mixed, or at least 32 such characters whatever they are (hex,
    /// base64url). Words and short ids (`services`, `T0123`, `mojo-events`) are kept.
    public static func looksSecret(_ segment: Substring) -> Bool {
        guard segment.utf8.count >= 16 else { return false }
        var letters = 0, digits = 0
        for b in segment.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): letters += 1
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "="), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "%"): break
            default: return false
            }
        }
        return (letters > 0 && digits > 0) || segment.utf8.count >= 32
    }
}
