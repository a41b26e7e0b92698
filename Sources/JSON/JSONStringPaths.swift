/// A fixed set of member paths (`["message", "sender", "name"]`) whose string values are read
/// straight from JSON bytes, without building ``JSONValue``s.
///
/// For the relay's hot path: routing an event needs a handful of its fields, and building the
/// whole tree (one allocation per string, array and object) cost more than everything else the
/// relay does per event. The document is scanned once, for all the paths at the same time.
///
/// Results match ``JSONValue`` lookups exactly: `value[k1]?[k2]?.stringValue` is the result for
/// path `[k1, k2]` (`nil` when a member is missing, a value on the way is not an object, or the
/// last value is not a string), and a key that occurs twice in an object resolves to its last
/// value, as ``JSONValue/init(parsing:)-(Collection<UInt8>)`` does.
public struct JSONStringPaths: Sendable {
    /// One member looked up in an object: where its string goes and/or the members below it.
    private struct Member: Sendable {
        var key: [UInt8]
        var result: Int?
        var children: Int?
        /// Every result at or below this member (reset when a later duplicate key replaces it).
        var subtree: [Int] = []
    }

    /// The lookups per object level; level 0 is the document.
    private var levels: [[Member]] = [[]]
    /// The number of paths.
    public let count: Int

    /// The paths, each a non-empty list of keys; results come back in this order.
    public init(_ paths: [[String]]) {
        count = paths.count
        for (index, path) in paths.enumerated() {
            precondition(!path.isEmpty, "a path needs at least one key")
            var level = 0
            for (depth, key) in path.enumerated() {
                let bytes = Array(key.utf8)
                let slot: Int
                if let existing = levels[level].firstIndex(where: { $0.key == bytes }) {
                    slot = existing
                } else {
                    levels[level].append(Member(key: bytes))
                    slot = levels[level].count - 1
                }
                levels[level][slot].subtree.append(index)
                if depth == path.count - 1 {
                    levels[level][slot].result = index
                } else {
                    if levels[level][slot].children == nil {
                        levels.append([])
                        levels[level][slot].children = levels.count - 1
                    }
                    level = levels[level][slot].children!
                }
            }
        }
    }

    /// The string at each path in the JSON document `bytes` (one value, whitespace around it
    /// allowed), in the order of the paths.
    /// - Throws: the same errors as ``JSONValue/init(parsing:)-(Collection<UInt8>)``: the whole
    ///   document is validated, not only the members looked up.
    public func strings(in bytes: UnsafeRawBufferPointer) throws(JSONError) -> [String?] {
        var results = [String?](repeating: nil, count: count)
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        guard !reader.isAtEnd else { throw .unexpectedEnd(offset: reader.offset) }
        if reader.current == UInt8(ascii: "{") {
            try lookUp(level: 0, in: &reader, depth: 0, into: &results)
        } else {
            try reader.skipValue(depth: 0)
        }
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw .trailingData(offset: reader.offset) }
        return results
    }

    /// Scans the object under the cursor (validating it exactly as ``JSONReader/skipValue(depth:)``
    /// does, in the same order, so errors are the same), resolving the members of `level` on the
    /// way: strings into `results`, objects one level down in the same pass. A key seen again
    /// replaces what its earlier value gave (last value wins).
    private func lookUp(level: Int, in reader: inout JSONReader, depth: Int, into results: inout [String?]) throws(JSONError) {
        guard depth < JSONValue.maximumDepth else { throw .tooDeep(offset: reader.offset) }
        let members = levels[level]
        reader.advance()
        reader.skipWhitespace()
        if !reader.isAtEnd, reader.current == UInt8(ascii: "}") {
            reader.advance()
            return
        }
        while true {
            reader.skipWhitespace()
            guard !reader.isAtEnd else { throw .unexpectedEnd(offset: reader.offset) }
            guard reader.current == UInt8(ascii: "\"") else { throw .unexpectedByte(reader.current, offset: reader.offset) }
            let (content, hasEscapes) = try reader.scanString()
            reader.skipWhitespace()
            try reader.expect(UInt8(ascii: ":"))
            reader.skipWhitespace()
            if let slot = match(content, hasEscapes: hasEscapes, reader: reader, members: members) {
                for i in members[slot].subtree.indices { results[members[slot].subtree[i]] = nil }
                let first = reader.isAtEnd ? 0 : reader.current
                if let result = members[slot].result, first == UInt8(ascii: "\"") {
                    let (value, valueHasEscapes) = try reader.scanString()
                    results[result] = reader.decodeString(value, hasEscapes: valueHasEscapes)
                } else if let children = members[slot].children, first == UInt8(ascii: "{") {
                    try lookUp(level: children, in: &reader, depth: depth + 1, into: &results)
                } else {
                    try reader.skipValue(depth: depth + 1)
                }
            } else {
                try reader.skipValue(depth: depth + 1)
            }
            reader.skipWhitespace()
            guard !reader.isAtEnd else { throw .unexpectedEnd(offset: reader.offset) }
            if reader.current == UInt8(ascii: ",") {
                reader.advance()
            } else if reader.current == UInt8(ascii: "}") {
                reader.advance()
                return
            } else {
                throw .unexpectedByte(reader.current, offset: reader.offset)
            }
        }
    }

    /// The index in `members` of the key whose content is `content`, if any.
    private func match(_ content: Range<Int>, hasEscapes: Bool, reader: JSONReader, members: [Member]) -> Int? {
        if hasEscapes {
            let key = Array(reader.decodeString(content, hasEscapes: true).utf8)
            return members.firstIndex { $0.key == key }
        }
        let key = UnsafeRawBufferPointer(rebasing: reader.base[content])
        for i in members.indices where members[i].key.count == key.count {
            if members[i].key.withUnsafeBytes({ $0.elementsEqual(key) }) { return i }
        }
        return nil
    }
}
