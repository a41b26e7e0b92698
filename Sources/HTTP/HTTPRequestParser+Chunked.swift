extension HTTPRequestParser {
    /// Decodes as much of a chunked body as is buffered; `true` once the last chunk and the
    /// trailer section (dropped) have been consumed.
    mutating func decodeChunks(into body: inout [UInt8], phase: inout ChunkPhase) throws(HTTPParseError) -> Bool {
        while true {
            switch phase {
            case .size:
                guard let line = try takeLine(limit: Self.maxChunkLineBytes, tooLong: .invalidChunk) else { return false }
                let size = try Self.chunkSize(line)
                if size == 0 {
                    phase = .trailers(bytes: 0)
                } else {
                    guard size <= limits.maxBodyBytes - body.count else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
                    phase = .data(remaining: size)
                }
            case .data(let remaining):
                let count = min(remaining, buffer.count - start)
                guard count > 0 else { return false }
                body.append(contentsOf: buffer[start..<start + count])
                start += count
                phase = remaining == count ? .dataEnd : .data(remaining: remaining - count)
            case .dataEnd:
                guard buffer.count - start >= 2 else { return false }
                guard buffer[start] == 0x0D, buffer[start + 1] == 0x0A else { throw .invalidChunk }
                start += 2
                phase = .size
            case .trailers(let bytes):
                let room = limits.maxHeadBytes - bytes
                guard let line = try takeLine(limit: room, tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else { return false }
                if line.isEmpty { return true }
                guard line.contains(UInt8(ascii: ":")), line.allSatisfy(HTTPHeadBuilder.isValueByte) else { throw .invalidChunk }
                phase = .trailers(bytes: bytes + line.count + 2)
            }
        }
    }

    /// Consumes one CRLF-terminated line of at most `limit` bytes (CRLF included) and returns it
    /// without the CRLF; `nil` if it is not complete yet.
    private mutating func takeLine(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        let end = min(buffer.count, start + max(limit, 0))
        guard let lf = buffer[start..<end].firstIndex(of: 0x0A) else {
            if buffer.count - start >= limit { throw tooLong }
            return nil
        }
        guard lf > start, buffer[lf - 1] == 0x0D else { throw .bareLineFeed }
        let line = buffer[start..<lf - 1]
        start = lf + 1
        return line
    }

    /// Parses `chunk-size [ ";" extensions ]`: hex digits, at most 15 of them.
    static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            guard let value = HTTPTarget.hexValue(byte) else {
                guard byte == UInt8(ascii: ";") || byte == 0x20 || byte == 0x09 else { throw .invalidChunk }
                break
            }
            digits += 1
            guard digits <= 15 else { throw .invalidChunk }
            size = size << 4 | Int(value)
        }
        guard digits > 0 else { throw .invalidChunk }
        return size
    }
}
