#if canImport(Glibc)
import Glibc
#endif

/// `mojo-bridge health [--url URL] [--timeout 2s]`: one `GET` of the admin API, exit 0 on a 2xx
/// answer and 1 otherwise. A probe for images without curl or a shell (`HEALTHCHECK CMD
/// ["mojo-bridge", "health"]`, Kubernetes `exec` probes). Plain `http://` only: the admin API
/// listens on loopback or the pod network without TLS.
enum HealthCommand {
    static let valued: Set<String> = ["--url", "--timeout"]
    static let defaultURL = "http://127.0.0.1:9090/healthz"

    static func run(_ args: ParsedArguments) -> ExitCode {
        guard args.positional.isEmpty, args.trailing == nil else {
            printErr("mojo-bridge health: takes no positional arguments")
            return .usage
        }
        let url = args.last("--url") ?? env("MOJO_HEALTH_URL") ?? defaultURL
        guard let target = parse(url) else {
            printErr("mojo-bridge health: --url must be http://HOST:PORT/PATH, found \(url)")
            return .usage
        }
        var timeoutMs = 2000
        if let t = args.last("--timeout") {
            guard let ms = Duration.milliseconds(parsing: t), ms > 0 else {
                printErr("mojo-bridge health: --timeout: expected a duration like 2s")
                return .usage
            }
            timeoutMs = ms
        }
        switch get(target, timeoutMs: timeoutMs) {
        case .success(let status) where (200..<300).contains(status):
            print("\(url): \(status)")
            return .ok
        case .success(let status):
            printErr("\(url): \(status)")
            return .failure
        case .failure(let reason):
            printErr("\(url): \(reason)")
            return .failure
        }
    }

    /// `http://host:port/path` split; `[v6]` hosts allowed; port defaults to 80.
    static func parse(_ url: String) -> (host: String, port: String, path: String)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        var host = String(authority)
        var port = "80"
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { port = String(after.dropFirst()) } else if !after.isEmpty { return nil }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            port = String(host[host.index(after: colon)...])
            host = String(host[..<colon])
        }
        guard !host.isEmpty, let p = Int(port), (1...65535).contains(p),
              !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else { return nil }
        return (host, port, path.isEmpty ? "/" : String(path))
    }

    /// A connected socket to `target` with `GET path` sent (`Connection: close`), send and receive
    /// bounded by `timeoutMs`; the caller closes it. `connectHint` follows a refused connection.
    static func openRequest(_ target: (host: String, port: String, path: String), timeoutMs: Int, accept: String?,
                            connectHint: String) -> Result<Int32, HealthError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(target.host, target.port, &hints, &list)
        guard rc == 0, let first = list else { return .failure(HealthError("cannot resolve \(target.host): \(String(cString: gai_strerror(rc)))")) }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(HealthError("socket: errno \(errno)")) }
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(HealthError("connect: \(reason)\(connectHint)"))
        }
        let acceptLine = accept.map { "Accept: \($0)\r\n" } ?? ""
        let request = Array("GET \(target.path) HTTP/1.1\r\nHost: \(target.host)\r\n\(acceptLine)Connection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(HealthError("send: \(reason)"))
        }
        return .success(fd)
    }

    /// The status code of `GET path`, or why there is none.
    static func get(_ target: (host: String, port: String, path: String), timeoutMs: Int) -> Result<Int, HealthError> {
        let opened = openRequest(target, timeoutMs: timeoutMs, accept: nil, connectHint: "")
        guard case .success(let fd) = opened else { return opened.map { _ in 0 } }
        defer { close(fd) }
        // The status line is all that matters: `HTTP/1.1 200 OK`.
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while !head.contains(10), head.count < 4096 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return .failure(HealthError(n == 0 ? "connection closed before an answer" : "no answer within \(timeoutMs) ms")) }
            head += buffer[0..<n]
        }
        let line = String(decoding: head.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .failure(HealthError("not an HTTP answer: \(line.prefix(80))"))
        }
        return .success(status)
    }
}

/// Why a health probe got no status code.
struct HealthError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
