extension JSONReader {
    /// Parses the value under the cursor; `depth` counts the arrays and objects around it.
    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard !isAtEnd else { throw .unexpectedEnd(offset: offset) }
        switch current {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth))
        case UInt8(ascii: "\""):
            let (content, hasEscapes) = try scanString()
            return .string(decodeString(content, hasEscapes: hasEscapes))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return try scanLiteral()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try scanNumber()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: base[range]), as: UTF8.self))
        default:
            throw .unexpectedByte(current, offset: offset)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> [JSONValue] {
        guard depth < JSONValue.maximumDepth else { throw .tooDeep(offset: offset) }
        advance()
        var elements: [JSONValue] = []
        skipWhitespace()
        if !isAtEnd, current == UInt8(ascii: "]") {
            advance()
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard !isAtEnd else { throw .unexpectedEnd(offset: offset) }
            switch current {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"): advance(); return elements
            default: throw .unexpectedByte(current, offset: offset)
            }
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONObject {
        guard depth < JSONValue.maximumDepth else { throw .tooDeep(offset: offset) }
        advance()
        var keys: [String] = []
        var values: [JSONValue] = []
        // Duplicate keys: last value wins at the first position (JavaScript's rule). Linear
        // search is fastest for small objects; large ones get an index.
        var index: [String: Int]? = nil
        skipWhitespace()
        if !isAtEnd, current == UInt8(ascii: "}") {
            advance()
            return JSONObject(uniqueKeys: keys, values: values)
        }
        while true {
            skipWhitespace()
            guard !isAtEnd else { throw .unexpectedEnd(offset: offset) }
            guard current == UInt8(ascii: "\"") else { throw .unexpectedByte(current, offset: offset) }
            let (content, hasEscapes) = try scanString()
            let key = decodeString(content, hasEscapes: hasEscapes)
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            let existing: Int?
            if let found = index {
                existing = found[key]
            } else {
                existing = keys.firstIndex(of: key)
            }
            if let existing {
                values[existing] = value
            } else {
                keys.append(key)
                values.append(value)
                if index != nil {
                    index?[key] = keys.count - 1
                } else if keys.count > 16 {
                    var built: [String: Int] = [:]
                    for (i, k) in keys.enumerated() { built[k] = i }
                    index = built
                }
            }
            skipWhitespace()
            guard !isAtEnd else { throw .unexpectedEnd(offset: offset) }
            switch current {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"): advance(); return JSONObject(uniqueKeys: keys, values: values)
            default: throw .unexpectedByte(current, offset: offset)
            }
        }
    }

    /// Validates and skips the value under the cursor without building it.
    mutating func skipValue(depth: Int) throws(JSONError) {
        guard !isAtEnd else { throw .unexpectedEnd(offset: offset) }
        switch current {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < JSONValue.maximumDepth else { throw .tooDeep(offset: offset) }
            let isObject = current == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            advance()
            skipWhitespace()
            if !isAtEnd, current == close {
                advance()
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    guard !isAtEnd else { throw .unexpectedEnd(offset: offset) }
                    guard current == UInt8(ascii: "\"") else { throw .unexpectedByte(current, offset: offset) }
                    _ = try scanString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard !isAtEnd else { throw .unexpectedEnd(offset: offset) }
                if current == UInt8(ascii: ",") {
                    advance()
                } else if current == close {
                    advance()
                    return
                } else {
                    throw .unexpectedByte(current, offset: offset)
                }
            }
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            _ = try scanLiteral()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        default:
            throw .unexpectedByte(current, offset: offset)
        }
    }
}
