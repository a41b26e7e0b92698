/// A JSON value as defined by RFC 8259.
///
/// Numbers keep their literal text (`.number("1.50")`), so a value read and written back is
/// byte-for-byte the same number; use ``intValue`` or ``doubleValue`` to interpret it.
/// Objects keep their keys in input order (see ``JSONObject``).
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its literal text (already validated against the RFC 8259 grammar when parsed).
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object with order-preserving keys.
    case object(JSONObject)

    /// The deepest nesting of arrays and objects the parser accepts.
    public static let maximumDepth = 128

    /// Member `key` of an object; `nil` for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// Element `index` of an array; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number as an `Int`, if it is a number with an integral value that fits (`2`, `2.0`, `2e3`).
    public var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        if let exact = Int(text) { return exact }
        guard let d = Double(text) else { return nil }
        return Int(exactly: d)
    }

    /// The number as a `Double`, if this is a number (may round; very large exponents give infinity).
    public var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    /// The Boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue {
    /// Parses one JSON value from UTF-8 bytes (strict RFC 8259; whitespace allowed around it).
    ///
    /// - Throws: ``JSONError`` with the byte offset of the first problem: malformed syntax,
    ///   invalid UTF-8, lone surrogates in `\u` escapes, nesting deeper than ``maximumDepth``,
    ///   or anything but whitespace after the value.
    public init(parsing bytes: some Collection<UInt8>) throws(JSONError) {
        let result: Result<JSONValue, JSONError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONError) in try JSONValue.parse(UnsafeRawBufferPointer(buffer)) }
        }
        if let result {
            self = try result.get()
        } else {
            let copy = Array(bytes)
            self = try copy.withUnsafeBytes { raw in
                Result { () throws(JSONError) in try JSONValue.parse(raw) }
            }.get()
        }
    }

    /// Parses one JSON value from a string (see ``init(parsing:)-(Collection<UInt8>)``).
    public init(parsing string: String) throws(JSONError) {
        var string = string
        let result = string.withUTF8 { buffer in
            Result { () throws(JSONError) in try JSONValue.parse(UnsafeRawBufferPointer(buffer)) }
        }
        self = try result.get()
    }

    /// Parses a whole buffer as one value.
    static func parse(_ raw: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        var reader = JSONReader(raw)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw .trailingData(offset: reader.offset) }
        return value
    }
}
