/// An incremental, bounded parser of an HTTP/1.1 response head (status line and headers).
///
/// Feed it bytes with ``append(_:)-(UnsafeRawBufferPointer)`` until it returns the head and the
/// bytes that followed the blank line, which may already hold WebSocket frames: pass them to the
/// frame parser. After returning a head the parser starts over, empty.
public struct HTTPResponseHeadParser: Sendable {
    private let maxHeadSize: Int
    private var buffer: [UInt8] = []
    /// Bytes before this index hold no `\r\n\r\n`, so the search resumes here.
    private var scanned = 0

    /// Creates a parser refusing heads longer than `maxHeadSize` bytes (blank line included).
    public init(maxHeadSize: Int = 16384) {
        self.maxHeadSize = maxHeadSize
    }

    /// Appends received bytes; returns the head and the remainder once the blank line arrived,
    /// `nil` while more is needed.
    /// - Throws: ``WebSocketHandshakeError/headTooLarge`` or ``WebSocketHandshakeError/malformedResponse(_:)``.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(WebSocketHandshakeError) -> (head: HTTPResponseHead, remainder: [UInt8])? {
        buffer.append(contentsOf: bytes)
        var end: Int?
        var index = max(0, scanned - 3)
        while index + 4 <= buffer.count {
            if buffer[index] == 0x0D, buffer[index + 1] == 0x0A, buffer[index + 2] == 0x0D, buffer[index + 3] == 0x0A {
                end = index
                break
            }
            index += 1
        }
        guard let headEnd = end else {
            scanned = buffer.count
            if buffer.count > maxHeadSize { throw .headTooLarge }
            return nil
        }
        if headEnd + 4 > maxHeadSize { throw .headTooLarge }
        let head = try Self.parse(buffer[0..<headEnd])
        let remainder = Array(buffer[(headEnd + 4)...])
        buffer = []
        scanned = 0
        return (head, remainder)
    }

    /// Appends received bytes; see ``append(_:)-(UnsafeRawBufferPointer)``.
    public mutating func append(_ bytes: [UInt8]) throws(WebSocketHandshakeError) -> (head: HTTPResponseHead, remainder: [UInt8])? {
        var result: (head: HTTPResponseHead, remainder: [UInt8])?
        var failure: WebSocketHandshakeError?
        bytes.withUnsafeBytes { raw in
            do throws(WebSocketHandshakeError) { result = try append(raw) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }

    /// Parses the head without its final CRLF CRLF.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(WebSocketHandshakeError) -> HTTPResponseHead {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x0D {
                guard index + 1 < bytes.endIndex, bytes[index + 1] == 0x0A else { throw .malformedResponse("bare CR") }
                lines.append(bytes[lineStart..<index])
                index += 2
                lineStart = index
            } else if bytes[index] == 0x0A {
                throw .malformedResponse("bare LF")
            } else {
                index += 1
            }
        }
        lines.append(bytes[lineStart..<bytes.endIndex])

        let (status, reason) = try parseStatusLine(lines[0])
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformedResponse("header without colon") }
            let nameBytes = line[line.startIndex..<colon]
            guard !nameBytes.isEmpty, !nameBytes.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
                // Also rejects obsolete line folding, whose continuation lines start with whitespace.
                throw .malformedResponse("invalid header name")
            }
            let value = ASCII.trimmed(Substring(String(decoding: line[(colon + 1)...], as: UTF8.self)))
            headers.append((name: String(decoding: nameBytes, as: UTF8.self), value: String(value)))
        }
        return HTTPResponseHead(status: status, reason: reason, headers: headers)
    }

    /// Parses `HTTP/1.x SP 3DIGIT SP reason`.
    private static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(WebSocketHandshakeError) -> (Int, String) {
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, line.starts(with: prefix) else { throw .malformedResponse("bad status line") }
        let base = line.startIndex
        let minor = line[base + 7]
        guard minor == UInt8(ascii: "1") || minor == UInt8(ascii: "0"), line[base + 8] == UInt8(ascii: " ") else {
            throw .malformedResponse("bad HTTP version")
        }
        var status = 0
        for offset in 9..<12 {
            let digit = line[base + offset]
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { throw .malformedResponse("bad status code") }
            status = status * 10 + Int(digit - UInt8(ascii: "0"))
        }
        var reason = ""
        if line.count > 12 {
            guard line[base + 12] == UInt8(ascii: " ") else { throw .malformedResponse("bad status line") }
            reason = String(decoding: line[(base + 13)...], as: UTF8.self)
        }
        return (status, reason)
    }
}
