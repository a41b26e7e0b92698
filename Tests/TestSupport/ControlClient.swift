import Foundation
import JSON

/// A blocking HTTP/1.1 client for the dev server's control API (tests only; one request per connection).
public struct ControlClient: Sendable {
    public let port: Int

    public init(port: Int) { self.port = port }

    /// Sends a request and returns the status and parsed JSON body (`null` when the body is empty).
    @discardableResult
    public func request(_ method: String, _ path: String, _ body: JSONValue? = nil) throws -> (status: Int, body: JSONValue) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DevServerError.control("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw DevServerError.control("connect to 127.0.0.1:\(port): errno \(errno)") }
        let payload: [UInt8] = body.map { Array($0.serialized().utf8) } ?? []
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if body != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(payload.count)\r\n\r\n"
        let bytes = Array(head.utf8) + payload
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw DevServerError.control("send: errno \(errno)") }
            off += n
        }
        var response: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buf[0..<n])
        }
        guard let split = response.firstRange(of: [13, 10, 13, 10]) else {
            throw DevServerError.control("no HTTP response head from \(method) \(path)")
        }
        let headText = String(decoding: response[..<split.lowerBound], as: UTF8.self)
        let statusLine = headText.split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw DevServerError.control("bad status line: \(statusLine)") }
        var bodyBytes = Array(response[split.upperBound...])
        if headText.lowercased().contains("transfer-encoding: chunked") { bodyBytes = Self.dechunk(bodyBytes) }
        let json = bodyBytes.isEmpty ? JSONValue.null : try JSONValue(parsing: bodyBytes)
        return (status, json)
    }

    /// POSTs and requires a 2xx answer.
    @discardableResult
    public func post(_ path: String, _ body: JSONValue) throws -> JSONValue {
        let r = try request("POST", path, body)
        guard (200..<300).contains(r.status) else { throw DevServerError.control("POST \(path) -> \(r.status) \(r.body.serialized())") }
        return r.body
    }

    /// GETs and requires a 2xx answer.
    public func get(_ path: String) throws -> JSONValue {
        let r = try request("GET", path)
        guard (200..<300).contains(r.status) else { throw DevServerError.control("GET \(path) -> \(r.status) \(r.body.serialized())") }
        return r.body
    }

    /// Mints a token for `userId` with the given lifetime in seconds.
    public func token(for userId: String, ttl: Int = 3600, alg: String = "HS256") throws -> String {
        let r = try post("/control/tokens", ["userId": .string(userId), "ttl": .number(String(ttl)), "alg": .string(alg)])
        guard let t = r["token"]?.stringValue else { throw DevServerError.control("no token in \(r.serialized())") }
        return t
    }

    private static func dechunk(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            guard let eol = b[i...].firstRange(of: [13, 10]) else { break }
            let size = Int(String(decoding: b[i..<eol.lowerBound], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
            if size == 0 { break }
            let start = eol.upperBound
            out.append(contentsOf: b[start..<min(start + size, b.count)])
            i = start + size + 2
        }
        return out
    }
}
