/// The character sets inbound mail is decoded from. Anything unknown is read as UTF-8 with
/// replacement characters (never dropped, never a failure).
public enum Charset: Sendable, Equatable {
    case utf8
    case latin1
    case latin9
    case windows1252

    /// The charset named by a MIME `charset` parameter (case-insensitive, common aliases).
    public init(name: String) {
        switch name.lowercased().trimmingCharacters(in: " \t\"") {
        case "iso-8859-1", "iso8859-1", "latin1", "l1", "iso_8859-1", "cp819", "us-ascii", "ascii": self = .latin1
        case "iso-8859-15", "iso8859-15", "latin9", "latin-9", "iso_8859-15": self = .latin9
        case "windows-1252", "cp1252", "x-cp1252": self = .windows1252
        default: self = .utf8
        }
    }

    /// `bytes` decoded to a string.
    public func decode(_ bytes: some Collection<UInt8>) -> String {
        switch self {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .latin1:
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case .latin9:
            var view = String.UnicodeScalarView()
            for b in bytes { view.append(Self.latin9Scalar(b)) }
            return String(view)
        case .windows1252:
            var view = String.UnicodeScalarView()
            for b in bytes { view.append(Self.cp1252Scalar(b)) }
            return String(view)
        }
    }

    static func latin9Scalar(_ b: UInt8) -> Unicode.Scalar {
        let code: UInt32
        switch b {
        case 0xA4: code = 0x20AC
        case 0xA6: code = 0x0160
        case 0xA8: code = 0x0161
        case 0xB4: code = 0x017D
        case 0xB8: code = 0x017E
        case 0xBC: code = 0x0152
        case 0xBD: code = 0x0153
        case 0xBE: code = 0x0178
        default: code = UInt32(b)
        }
        return Unicode.Scalar(code) ?? "\u{FFFD}"
    }

    /// 0x80...0x9F of windows-1252; the five undefined positions become U+FFFD.
    private static let cp1252High: [UInt32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]

    static func cp1252Scalar(_ b: UInt8) -> Unicode.Scalar {
        if b >= 0x80 && b <= 0x9F { return Unicode.Scalar(cp1252High[Int(b - 0x80)]) ?? "\u{FFFD}" }
        return Unicode.Scalar(b)
    }
}

extension StringProtocol {
    /// Without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(String(self))
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }

    /// Without leading and trailing spaces, tabs, CR and LF.
    var trimmed: String { trimmingCharacters(in: " \t\r\n") }
}
