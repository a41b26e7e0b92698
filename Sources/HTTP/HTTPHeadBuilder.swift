/// Turns the lines of a request head into an `HTTPRequestHead`, validating each piece, and
/// decides how the body is framed.
enum HTTPHeadBuilder {
    /// How the body of a request is delimited.
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
    }

    /// `tchar` from RFC 9110 §5.6.2.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Field-value bytes: HTAB, visible ASCII, space and obs-text; no other control characters.
    static func isValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// Builds the head from `lines` (ranges into `buffer`, CRLF excluded; at least one).
    static func build(lines: [Range<Int>], in buffer: [UInt8]) throws(HTTPParseError) -> HTTPRequestHead {
        guard let first = lines.first else { throw .malformedRequestLine }
        let (method, target, version) = try requestLine(buffer[first])
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() {
            headers.append(try field(buffer[line]))
        }
        let head = HTTPRequestHead(method: method, target: target, version: version, headers: headers)
        let hosts = head.headers(named: "Host").count
        if version == .http11 ? hosts != 1 : hosts > 1 { throw .invalidHost }
        return head
    }

    /// Parses `method SP request-target SP HTTP-version`, with exactly one space between parts.
    static func requestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String, HTTPVersion) {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { throw .malformedRequestLine }
        let targetBytes = parts[1]
        guard !targetBytes.isEmpty else { throw .malformedRequestLine }
        guard targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidTarget }
        let target = String(decoding: targetBytes, as: UTF8.self)
        let lowered = target.lowercased()
        guard target.hasPrefix("/") || target == "*" || lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw .invalidTarget
        }
        let version = Array(parts[2])
        guard version.count == 8, version[0..<5].elementsEqual("HTTP/".utf8), version[6] == UInt8(ascii: "."),
              let major = digit(version[5]), let minor = digit(version[7]) else { throw .malformedRequestLine }
        switch (major, minor) {
        case (1, 1): return (String(decoding: parts[0], as: UTF8.self), target, .http11)
        case (1, 0): return (String(decoding: parts[0], as: UTF8.self), target, .http10)
        default: throw .unsupportedVersion(String(decoding: version, as: UTF8.self))
        }
    }

    /// Parses `name ":" OWS value OWS`.
    static func field(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (name: String, value: String) {
        guard let firstByte = line.first else { throw .invalidHeaderName }
        if firstByte == 0x20 || firstByte == 0x09 { throw .obsoleteLineFolding }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .invalidHeaderName }
        let nameBytes = line[line.startIndex..<colon]
        guard !nameBytes.isEmpty, nameBytes.allSatisfy(isTokenByte) else { throw .invalidHeaderName }
        let name = String(decoding: nameBytes, as: UTF8.self)
        var valueBytes = line[(colon + 1)...]
        while let byte = valueBytes.first, byte == 0x20 || byte == 0x09 { valueBytes = valueBytes.dropFirst() }
        while let byte = valueBytes.last, byte == 0x20 || byte == 0x09 { valueBytes = valueBytes.dropLast() }
        guard valueBytes.allSatisfy(isValueByte) else { throw .invalidHeaderValue(name: name) }
        return (name, String(decoding: valueBytes, as: UTF8.self))
    }

    /// Decides the body framing from `Transfer-Encoding` and `Content-Length` (RFC 9112 §6.3).
    static func framing(of head: HTTPRequestHead, limits: HTTPRequestParser.Limits) throws(HTTPParseError) -> Framing {
        let lengths = head.headers(named: "Content-Length")
        let encodings = head.headers(named: "Transfer-Encoding")
        if !encodings.isEmpty {
            guard lengths.isEmpty else { throw .contentLengthWithTransferEncoding }
            guard head.version == .http11 else { throw .invalidTransferEncoding }
            let codings = encodings.flatMap { $0.split(separator: ",") }.map { trimOWS($0).lowercased() }.filter { !$0.isEmpty }
            guard codings.last == "chunked" else { throw .invalidTransferEncoding }
            guard codings.count == 1 else { throw .unsupportedTransferEncoding(codings.joined(separator: ", ")) }
            return .chunked
        }
        var length: Int?
        for value in lengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let text = trimOWS(value)
            // 18 digits cannot overflow Int; anything longer is far beyond any limit anyway.
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ digit($0) != nil }),
                  let parsed = Int(text) else { throw .invalidContentLength }
            if let length, length != parsed { throw .conflictingContentLength }
            length = parsed
        }
        guard let length, length > 0 else { return .none }
        guard length <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        return .length(length)
    }

    /// The value of an ASCII decimal digit, or `nil`.
    static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
