/// One parsed MIME entity: its header fields, its body with the transfer encoding undone, and
/// for `multipart/*` its parts.
public struct MIMEEntity: Sendable {
    /// Header fields in order, unfolded; values not yet RFC 2047-decoded.
    public var headers: [(name: String, value: String)]
    /// The body after base64 / quoted-printable decoding (empty for multiparts).
    public var body: [UInt8]
    /// The parts of a multipart.
    public var parts: [MIMEEntity]

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name.lowercased() == n }?.value
    }

    /// Every value of header `name`, in order.
    public func headers(_ name: String) -> [String] {
        let n = name.lowercased()
        return headers.filter { $0.name.lowercased() == n }.map(\.value)
    }

    /// `type/subtype` in lower case; `text/plain` when absent (RFC 2045 §5.2).
    public var contentType: String { Self.parameters(header("Content-Type") ?? "text/plain").value.lowercased() }

    /// The Content-Type parameters (lower-case names).
    public var contentTypeParameters: [String: String] { Self.parameters(header("Content-Type") ?? "").parameters }

    /// Content-Disposition's value in lower case (`attachment`, `inline`) and its parameters.
    public var disposition: (value: String, parameters: [String: String])? {
        guard let d = header("Content-Disposition") else { return nil }
        let p = Self.parameters(d)
        return (p.value.lowercased(), p.parameters)
    }

    /// The file name of the part (Content-Disposition `filename`, else Content-Type `name`), decoded.
    public var fileName: String? {
        let raw = disposition?.parameters["filename"] ?? contentTypeParameters["name"]
        return raw.map { HeaderEncoding.decode($0) }.map(HeaderEncoding.sanitized)
    }

    /// A structured value `v; a=1; b="x y"; c*=utf-8''%C3%A9`: the leading value and the parameters
    /// (RFC 2231 extended values decoded; continuations `name*0` joined).
    public static func parameters(_ text: String) -> (value: String, parameters: [String: String]) {
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for c in text {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" && inQuotes { escaped = true; continue }
            if c == "\"" { inQuotes.toggle(); current.append(c); continue }
            if c == ";" && !inQuotes { items.append(current); current = ""; continue }
            current.append(c)
        }
        items.append(current)
        let value = items.first?.trimmed ?? ""
        var params: [String: String] = [:]
        var continued: [String: [(Int, String)]] = [:]
        for item in items.dropFirst() {
            guard let eq = item.firstIndex(of: "=") else { continue }
            var name = item[..<eq].trimmed.lowercased()
            var v = item[item.index(after: eq)...].trimmed
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            var extended = false
            if name.hasSuffix("*") { extended = true; name.removeLast() }
            if extended { v = decode2231(v, first: !name.contains("*")) }
            if let star = name.firstIndex(of: "*"), let index = Int(name[name.index(after: star)...]) {
                continued[String(name[..<star]), default: []].append((index, v))
                continue
            }
            params[name] = v
        }
        for (name, pieces) in continued where params[name] == nil {
            params[name] = pieces.sorted { $0.0 < $1.0 }.map(\.1).joined()
        }
        return (value, params)
    }

    /// `charset'lang'percent-encoded` (or only percent-encoded for later continuations).
    private static func decode2231(_ v: String, first: Bool) -> String {
        var charset = Charset.utf8
        var text = Substring(v)
        let quotes = v.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        if quotes.count == 3 {
            charset = Charset(name: String(quotes[0]))
            text = quotes[2]
        }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count, let h = QuotedPrintable.hexValue(utf8[i + 1]), let l = QuotedPrintable.hexValue(utf8[i + 2]) {
                bytes.append(h << 4 | l)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return charset.decode(bytes)
    }
}

/// Why a message could not be parsed.
public struct MIMEError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
