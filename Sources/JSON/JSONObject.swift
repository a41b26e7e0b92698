/// A JSON object that keeps its members in insertion (or input) order.
///
/// Keys are unique: assigning an existing key replaces its value in place, as JavaScript does,
/// and the parser applies the same rule to duplicate keys in the input (last value wins, first
/// position kept). Lookups are linear, which is faster than hashing for the small objects of a
/// messaging protocol. Equality is order-sensitive.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One member of an object.
    public typealias Element = (key: String, value: JSONValue)

    private var storedKeys: [String]
    private var storedValues: [JSONValue]

    /// An empty object.
    public init() {
        storedKeys = []
        storedValues = []
    }

    /// An object with the given members in order; a repeated key keeps its first position and last value.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        storedKeys.reserveCapacity(pairs.count)
        storedValues.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    /// An object from a dictionary literal, in the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// Builds an object from parser output whose keys are already unique.
    init(uniqueKeys keys: [String], values: [JSONValue]) {
        storedKeys = keys
        storedValues = values
    }

    /// The value for `key`; assigning `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let index = storedKeys.firstIndex(of: key) else { return nil }
            return storedValues[index]
        }
        set {
            if let index = storedKeys.firstIndex(of: key) {
                if let newValue {
                    storedValues[index] = newValue
                } else {
                    storedKeys.remove(at: index)
                    storedValues.remove(at: index)
                }
            } else if let newValue {
                storedKeys.append(key)
                storedValues.append(newValue)
            }
        }
    }

    /// The keys, in order.
    public var keys: [String] { storedKeys }

    /// The values, in key order.
    public var values: [JSONValue] { storedValues }

    /// The number of members.
    public var count: Int { storedKeys.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { storedKeys.isEmpty }

    /// Iterates the members in order.
    public func makeIterator() -> Iterator {
        Iterator(keys: storedKeys, values: storedValues)
    }

    /// An iterator over the members of an object, in order.
    public struct Iterator: IteratorProtocol {
        let keys: [String]
        let values: [JSONValue]
        var index = 0

        /// The next member, or `nil` after the last.
        public mutating func next() -> Element? {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            return (keys[index], values[index])
        }
    }

    /// The object with the members of `other` merged in (other's values win; new keys go last).
    public func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for (key, value) in other { result[key] = value }
        return result
    }
}
