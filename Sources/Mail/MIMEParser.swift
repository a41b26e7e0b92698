/// Parses an RFC 5322 / MIME message held in memory (the caller bounds its size).
///
/// Lenient where mail in the wild is sloppy (LF or CRLF, stray spaces, unknown encodings read
/// as is) and strict where a guess would be unsafe: a message must start with a header field;
/// a multipart needs a boundary that occurs; nesting and part counts are limited.
public struct MIMEParser {
    /// How deep multiparts may nest.
    public var maxDepth = 8
    /// How many parts the whole message may have.
    public var maxParts = 200
    /// How many header fields one entity may have.
    public var maxHeaderFields = 500
    private var partsSeen = 0

    public init() {}

    /// The parsed message, or why it is malformed.
    public mutating func parse(_ bytes: [UInt8]) throws(MIMEError) -> MIMEEntity {
        partsSeen = 0
        return try entity(bytes[...], depth: 0, requireHeader: true)
    }

    private mutating func entity(_ bytes: ArraySlice<UInt8>, depth: Int, requireHeader: Bool) throws(MIMEError) -> MIMEEntity {
        partsSeen += 1
        guard partsSeen <= maxParts else { throw MIMEError("more than \(maxParts) MIME parts") }
        let (headers, bodyStart) = try Self.headers(bytes, limit: maxHeaderFields)
        if requireHeader && headers.isEmpty { throw MIMEError("no header fields") }
        var entity = MIMEEntity(headers: headers, body: [], parts: [])
        let body = bytes[bodyStart...]
        let type = entity.contentType
        if type.hasPrefix("multipart/") {
            guard depth < maxDepth else { throw MIMEError("multiparts nested deeper than \(maxDepth)") }
            guard let boundary = entity.contentTypeParameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
                throw MIMEError("\(type) without a boundary")
            }
            let pieces = Self.split(body, boundary: Array(boundary.utf8))
            guard !pieces.isEmpty else { throw MIMEError("\(type) whose boundary never occurs") }
            for piece in pieces { entity.parts.append(try self.entity(piece, depth: depth + 1, requireHeader: false)) }
            return entity
        }
        switch entity.header("Content-Transfer-Encoding")?.trimmed.lowercased() {
        case "base64": entity.body = Base64Codec.decode(body)
        case "quoted-printable": entity.body = QuotedPrintable.decode(body)
        default: entity.body = Array(body)
        }
        return entity
    }

    /// The unfolded header fields and the offset where the body starts (after the blank line).
    static func headers(_ bytes: ArraySlice<UInt8>, limit: Int) throws(MIMEError) -> ([(name: String, value: String)], Int) {
        var fields: [(name: String, value: String)] = []
        var i = bytes.startIndex
        var current: [UInt8]?
        func flush() throws(MIMEError) {
            guard let line = current else { return }
            current = nil
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return }
            let name = String(decoding: line[..<colon], as: UTF8.self).trimmed
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return }
            // Header values are ASCII by the standard; raw UTF-8 (RFC 6532) is accepted, other
            // bytes decoded as windows-1252 rather than lost.
            let raw = line[(colon + 1)...]
            let value = String(validating: raw, as: UTF8.self) ?? Charset.windows1252.decode(raw)
            fields.append((name, value.trimmed))
            guard fields.count <= limit else { throw MIMEError("more than \(limit) header fields") }
        }
        while i < bytes.endIndex {
            var end = i
            while end < bytes.endIndex && bytes[end] != 10 { end += 1 }
            var line = bytes[i..<end]
            if line.last == 13 { line = line.dropLast() }
            let next = end < bytes.endIndex ? end + 1 : end
            if line.isEmpty {
                try flush()
                return (fields, next)
            }
            if line.first == 32 || line.first == 9 {
                if current != nil {
                    current!.append(32)
                    current!.append(contentsOf: line.drop(while: { $0 == 32 || $0 == 9 }))
                }
            } else {
                try flush()
                if line.firstIndex(of: UInt8(ascii: ":")) == nil {
                    // Not a header line: the body starts here (no blank line in between).
                    return (fields, i)
                }
                current = Array(line)
                guard current!.count <= 100_000 else { throw MIMEError("a header field longer than 100000 bytes") }
            }
            i = next
        }
        try flush()
        return (fields, bytes.endIndex)
    }

    /// The parts between `--boundary` lines (preamble and epilogue dropped). A missing closing
    /// delimiter ends the last part at the end of the input.
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter: [UInt8] = [45, 45] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var i = body.startIndex
        while i < body.endIndex {
            var end = i
            while end < body.endIndex && body[end] != 10 { end += 1 }
            let line = body[i..<end]
            let next = end < body.endIndex ? end + 1 : end
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [45, 45])
                let tail = closing ? rest.dropFirst(2) : rest
                if tail.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
                    if let start = partStart {
                        // The line break before the delimiter belongs to the delimiter.
                        var stop = i
                        if stop > start, body[stop - 1] == 10 { stop -= 1 }
                        if stop > start, body[stop - 1] == 13 { stop -= 1 }
                        parts.append(body[start..<max(start, stop)])
                    }
                    if closing { return parts }
                    partStart = next
                }
            }
            i = next
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return parts
    }
}
