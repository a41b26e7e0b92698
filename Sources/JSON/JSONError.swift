/// A JSON syntax or encoding error, carrying the byte offset where it was detected.
public enum JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input ended in the middle of a value (or was empty).
    case unexpectedEnd(offset: Int)
    /// A byte that cannot start or continue the value being read.
    case unexpectedByte(UInt8, offset: Int)
    /// A number that does not follow the RFC 8259 grammar.
    case invalidNumber(offset: Int)
    /// A backslash escape that RFC 8259 does not define, or a malformed `\u` escape.
    case invalidEscape(offset: Int)
    /// A `\u` escape that encodes a lone UTF-16 surrogate.
    case loneSurrogate(offset: Int)
    /// An unescaped control character (below U+0020) inside a string.
    case controlCharacter(offset: Int)
    /// Bytes that are not well-formed UTF-8.
    case invalidUTF8(offset: Int)
    /// Arrays and objects nested deeper than ``JSONValue/maximumDepth``.
    case tooDeep(offset: Int)
    /// A complete value followed by something other than whitespace.
    case trailingData(offset: Int)
    /// The input is valid JSON but not of the kind the caller asked for (for example not an array).
    case unexpectedType(expected: String, offset: Int)

    /// The byte offset in the input where the error was detected.
    public var offset: Int {
        switch self {
        case .unexpectedEnd(let o), .unexpectedByte(_, let o), .invalidNumber(let o), .invalidEscape(let o),
             .loneSurrogate(let o), .controlCharacter(let o), .invalidUTF8(let o), .tooDeep(let o),
             .trailingData(let o), .unexpectedType(_, let o):
            return o
        }
    }

    /// A one-line human description, for example `invalid JSON: unexpected byte '}' at offset 7`.
    public var description: String {
        switch self {
        case .unexpectedEnd(let o): return "invalid JSON: unexpected end of input at offset \(o)"
        case .unexpectedByte(let b, let o):
            let shown = (0x21...0x7E).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "0x\(String(b, radix: 16))"
            return "invalid JSON: unexpected byte \(shown) at offset \(o)"
        case .invalidNumber(let o): return "invalid JSON: malformed number at offset \(o)"
        case .invalidEscape(let o): return "invalid JSON: invalid escape sequence at offset \(o)"
        case .loneSurrogate(let o): return "invalid JSON: lone UTF-16 surrogate in \\u escape at offset \(o)"
        case .controlCharacter(let o): return "invalid JSON: unescaped control character in string at offset \(o)"
        case .invalidUTF8(let o): return "invalid JSON: malformed UTF-8 at offset \(o)"
        case .tooDeep(let o): return "invalid JSON: nesting deeper than \(JSONValue.maximumDepth) at offset \(o)"
        case .trailingData(let o): return "invalid JSON: unexpected data after the value at offset \(o)"
        case .unexpectedType(let expected, let o): return "invalid JSON: expected \(expected) at offset \(o)"
        }
    }
}
