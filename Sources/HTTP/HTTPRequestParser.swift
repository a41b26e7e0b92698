/// An incremental HTTP/1.1 request parser for the server side: feed bytes with `append`, then
/// call `next()` until it returns `nil` (more bytes needed).
///
/// Pure (no I/O, no clock). Bounded: the request line and headers may take at most
/// `limits.maxHeadBytes` (else `.headTooLarge`, 431) and a body at most `limits.maxBodyBytes`
/// (else `.bodyTooLarge`, 413; a too-large `Content-Length` is refused before any body byte
/// arrives). Bodies are framed by `Content-Length` or by `Transfer-Encoding: chunked`, which is
/// decoded (chunk extensions ignored, trailers read within the head limit and dropped); any other
/// transfer coding is refused with `.unsupportedTransferEncoding` (501).
///
/// Strict where leniency enables request smuggling: bare LF, obsolete line folding, whitespace
/// before a header colon, control characters in values, differing `Content-Length` values and
/// `Content-Length` together with `Transfer-Encoding` are all errors. Empty lines before a
/// request line are skipped. Pipelined requests are returned one per `next()` call, in order.
///
/// After an error the parser is failed: every later `next()` throws the same error, and the
/// connection should be answered with `error.status` and closed.
public struct HTTPRequestParser: Sendable {
    /// Size bounds for one request.
    public struct Limits: Sendable, Equatable {
        /// Maximum bytes for the request line plus headers (and for chunked trailers). Default 16 KiB.
        public var maxHeadBytes: Int
        /// Maximum body bytes, after de-chunking. Default 1 MiB.
        public var maxBodyBytes: Int

        /// Creates limits.
        public init(maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 1 << 20) {
            self.maxHeadBytes = maxHeadBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// Progress through the request line and headers, as offsets from `start`.
    struct HeadScan: Sendable {
        /// Bytes already searched for line ends.
        var scanned = 0
        /// Where the current (unfinished) line begins.
        var lineStart = 0
        /// Completed non-empty lines, without their CRLF.
        var lines: [Range<Int>] = []
    }

    /// Where the chunked decoder is inside the body.
    enum ChunkPhase: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(bytes: Int)
    }

    enum State: Sendable {
        case head(HeadScan)
        case fixedBody(HTTPRequestHead, length: Int)
        case chunked(HTTPRequestHead, body: [UInt8], phase: ChunkPhase)
        case failed(HTTPParseError)
    }

    /// The bounds applied to each request.
    public let limits: Limits
    var buffer: [UInt8] = []
    /// Index of the first byte not yet consumed.
    var start = 0
    var state: State = .head(HeadScan())

    /// Longest chunk-size line accepted (size, extensions and CRLF).
    static let maxChunkLineBytes = 1024

    /// Creates a parser.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Buffers `bytes` (copied). Cheap: parsing happens in `next()`.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        // Reclaim the consumed prefix once it dominates; scan offsets are relative to `start`.
        if start > 0 && (start == buffer.count || (start >= 4096 && start >= buffer.count / 2)) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received and not yet returned as part of a request.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Whether part of a request has been received: buffered bytes or a head whose body is
    /// still arriving. `false` between requests on an idle keep-alive connection.
    public var hasPartialRequest: Bool {
        switch state {
        case .head: return buffer.count > start
        case .fixedBody, .chunked: return true
        case .failed: return false
        }
    }

    /// The head of the request whose body is being received, if any (for `100 Continue`).
    public var pendingHead: HTTPRequestHead? {
        switch state {
        case .fixedBody(let head, _), .chunked(let head, _, _): return head
        case .head, .failed: return nil
        }
    }

    /// Returns the next complete request, or `nil` when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPServerRequest? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPServerRequest? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .head(var scan):
                guard let head = try scanHead(&scan) else {
                    state = .head(scan)
                    return nil
                }
                let framing = try HTTPHeadBuilder.framing(of: head, limits: limits)
                switch framing {
                case .none: return finish(HTTPServerRequest(head: head))
                case .length(let length): state = .fixedBody(head, length: length)
                case .chunked: state = .chunked(head, body: [], phase: .size)
                }
            case .fixedBody(let head, let length):
                guard buffer.count - start >= length else { return nil }
                let body = Array(buffer[start..<start + length])
                start += length
                return finish(HTTPServerRequest(head: head, body: body))
            case .chunked(let head, var body, var phase):
                // Park the state so the body array is uniquely referenced while it grows.
                state = .head(HeadScan())
                let done = try decodeChunks(into: &body, phase: &phase)
                if done { return finish(HTTPServerRequest(head: head, body: body)) }
                state = .chunked(head, body: body, phase: phase)
                return nil
            }
        }
    }

    private mutating func finish(_ request: HTTPServerRequest) -> HTTPServerRequest {
        state = .head(HeadScan())
        return request
    }

    /// Finds complete lines up to the empty line; returns the head once it is complete.
    private mutating func scanHead(_ scan: inout HeadScan) throws(HTTPParseError) -> HTTPRequestHead? {
        while true {
            let from = start + scan.scanned
            guard let lf = buffer[from...].firstIndex(of: 0x0A) else {
                scan.scanned = buffer.count - start
                if scan.scanned > limits.maxHeadBytes { throw .headTooLarge(limit: limits.maxHeadBytes) }
                return nil
            }
            let lineStart = start + scan.lineStart
            guard lf > lineStart, buffer[lf - 1] == 0x0D else { throw .bareLineFeed }
            scan.scanned = lf + 1 - start
            if scan.scanned > limits.maxHeadBytes { throw .headTooLarge(limit: limits.maxHeadBytes) }
            let lineEnd = lf - 1
            if lineEnd == lineStart {
                if scan.lines.isEmpty {
                    // RFC 9112 §2.2: ignore empty lines before the request line.
                    scan.lineStart = scan.scanned
                    continue
                }
                let head = try HTTPHeadBuilder.build(lines: scan.lines.map { $0.lowerBound + start..<$0.upperBound + start },
                                                     in: buffer)
                start += scan.scanned
                return head
            }
            scan.lines.append(lineStart - start..<lineEnd - start)
            scan.lineStart = scan.scanned
        }
    }
}
