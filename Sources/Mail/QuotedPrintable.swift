/// Quoted-printable (RFC 2045 §6.7).
public enum QuotedPrintable {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Encodes text (its line breaks, LF or CRLF, become CRLF) with every output line at most 76
    /// characters, soft breaks (`=` at the end) where a line is longer; `=`, controls, bytes
    /// above 127 and trailing spaces are escaped. A leading `.` is escaped too, so no line of
    /// the result can be the SMTP end-of-data marker or start with a dot, and `From ` at the
    /// start of a line is escaped for mbox.
    public static func encode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        var lines = text.utf8.split(separator: 10, omittingEmptySubsequences: false)
        if text.utf8.last == 10 { lines.removeLast() }
        for (n, var line) in lines.enumerated() {
            if line.last == 13 { line = line.dropLast() }
            if n > 0 { out.append(contentsOf: [13, 10]) }
            var column = 0
            let bytes = Array(line)
            for (i, b) in bytes.enumerated() {
                let last = i == bytes.count - 1
                let mustEscape = b == UInt8(ascii: "=") || b > 126 || (b < 32 && b != 9)
                    || ((b == 32 || b == 9) && last)
                    || (column == 0 && b == UInt8(ascii: "."))
                    || (column == 0 && b == UInt8(ascii: "F") && bytes[i...].starts(with: "From ".utf8))
                let width = mustEscape ? 3 : 1
                // Room for the token plus a soft break `=` unless this is the line's last token.
                if column + width > (last ? 76 : 75) {
                    out.append(contentsOf: [UInt8(ascii: "="), 13, 10])
                    column = 0
                }
                if mustEscape || (column == 0 && b == UInt8(ascii: ".")) {
                    out.append(UInt8(ascii: "="))
                    out.append(hex[Int(b >> 4)])
                    out.append(hex[Int(b & 15)])
                    column += 3
                } else {
                    out.append(b)
                    column += 1
                }
            }
        }
        out.append(contentsOf: [13, 10])
        return out
    }

    /// Decodes quoted-printable leniently: soft breaks removed, `=XX` decoded (either case), a
    /// malformed `=` kept as is, trailing whitespace on lines dropped; line breaks become LF.
    public static func decode(_ input: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(input)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        var pendingSpace: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            if b == 32 || b == 9 {
                pendingSpace.append(b)
                i += 1
                continue
            }
            if b == 13 || b == 10 {
                pendingSpace.removeAll()
                out.append(10)
                i += (b == 13 && i + 1 < bytes.count && bytes[i + 1] == 10) ? 2 : 1
                continue
            }
            out.append(contentsOf: pendingSpace)
            pendingSpace.removeAll()
            if b == UInt8(ascii: "=") {
                // Soft line break: `=`, optional whitespace, then CRLF or LF (or the end).
                var j = i + 1
                while j < bytes.count, bytes[j] == 32 || bytes[j] == 9 { j += 1 }
                if j == bytes.count { i = j; continue }
                if bytes[j] == 13 || bytes[j] == 10 {
                    i = j + ((bytes[j] == 13 && j + 1 < bytes.count && bytes[j + 1] == 10) ? 2 : 1)
                    continue
                }
                if i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                out.append(b)
                i += 1
                continue
            }
            out.append(b)
            i += 1
        }
        out.append(contentsOf: pendingSpace)
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
