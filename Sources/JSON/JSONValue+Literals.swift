extension JSONValue: ExpressibleByStringLiteral {
    /// A string value.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// A number value written in decimal.
    public init(integerLiteral value: Int) { self = .number(String(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// A number value in Swift's shortest round-trip form (non-finite values become `null`).
    public init(floatLiteral value: Double) { self = JSONValue(value) }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// A Boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// An array value.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// An object value, keys in the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension JSONValue: ExpressibleByNilLiteral {
    /// `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// A number value from an integer.
    public init(_ value: Int) { self = .number(String(value)) }

    /// A number value from a `Double`; NaN and infinities (which JSON cannot express) become `null`,
    /// as in JavaScript's `JSON.stringify`.
    public init(_ value: Double) {
        guard value.isFinite else {
            self = .null
            return
        }
        if abs(value) < 1e15, let integral = Int(exactly: value) {
            self = .number(String(integral))
        } else {
            self = .number(String(describing: value))
        }
    }
}
