import Glibc

/// An HTTP proxy that tunnels with `CONNECT` (the WebSocket transport) or forwards (libcurl).
///
/// Chosen per destination from `HTTPS_PROXY` (https/wss), `HTTP_PROXY` (http/ws; the
/// daemon is never a CGI program, so the upper-case form is safe to read), `ALL_PROXY`, and `NO_PROXY` (comma-separated host names, `.domain` suffixes, IP
/// literals, `*`), lowercase forms too. Credentials in the proxy URL (`http://user:pw@proxy:3128`)
/// are sent as `Proxy-Authorization: Basic`; they are never logged (``description`` omits them).
public struct HTTPProxy: Sendable, Equatable, CustomStringConvertible {
    /// The proxy's host and port.
    public var host: String
    public var port: Int
    /// `user:password`, when the proxy URL carries them.
    var credentials: String?
    /// The proxy URL as given, for libcurl's `CURLOPT_PROXY` (credentials included).
    public var url: String

    /// Parses `http://[user[:pw]@]host[:port][/]` (or a bare `host:port`); nil if it is not one.
    public init?(url text: String) {
        var rest = Substring(text)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let scheme = rest[..<colon].lowercased()
            guard scheme == "http" else { return nil }  // https/socks proxies are not supported
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") {
            credentials = String(rest[..<at]).removingPercentEncoding
            rest = rest[rest.index(after: at)...]
        }
        var port = 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = String(rest)
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.port = port
        url = text.contains("://") ? text : "http://" + text
    }

    /// `http://host:port`: never the credentials.
    public var description: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }

    /// The `Proxy-Authorization` header value, when the URL carries credentials.
    var authorization: String? { credentials.map { "Basic " + Self.base64(Array($0.utf8)) } }

    /// The proxy for a destination (`secure`: https or wss), from the configuration's settings
    /// (``configured``) else the process environment; nil when none is set or `NO_PROXY` exempts `host`.
    public static func fromEnvironment(secure: Bool, host: String) -> HTTPProxy? {
        func env(_ name: String) -> String? {
            guard let v = getenv(name) else { return nil }
            let s = String(cString: v)
            return s.isEmpty ? nil : s
        }
        // The configuration's `server { proxy no_proxy proxy_auth }` win (HTTPProxy+Configured.swift).
        let choice = choice(secure: secure, env: env)
        guard let text = choice.url else { return nil }
        if let list = choice.noProxy, bypasses(host: host, noProxy: list) { return nil }
        var proxy = HTTPProxy(url: text)
        if let c = choice.credentials { proxy?.authenticate(c) }
        return proxy
    }

    /// Whether `NO_PROXY`-style `list` exempts `host`: `*`, an exact name or address, or a
    /// domain (`example.com` and `.example.com` both match `api.example.com`). Case-insensitive.
    public static func bypasses(host: String, noProxy list: String) -> Bool {
        let h = host.lowercased().trimmingBrackets()
        for raw in list.split(separator: ",") {
            var entry = String(raw).trimmingCharacters().lowercased()
            if entry == "*" { return true }
            if let colon = entry.lastIndex(of: ":"), !entry.contains("["), entry.filter({ $0 == ":" }).count == 1 {
                entry = String(entry[..<colon])  // a port in NO_PROXY is ignored
            }
            entry = entry.trimmingBrackets()
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            if h == entry || h.hasSuffix("." + entry) { return true }
        }
        return false
    }

    /// The `CONNECT` request for `host:port`.
    func connectRequest(host: String, port: Int) -> [UInt8] {
        let target = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var text = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization { text += "Proxy-Authorization: \(authorization)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i], b1 = n > 1 ? bytes[i + 1] : 0, b2 = n > 2 ? bytes[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(n > 1 ? table[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? table[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }

    fileprivate func trimmingBrackets() -> String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }

    /// `%XX` decoded (for credentials in a proxy URL); nil on a malformed escape.
    fileprivate var removingPercentEncoding: String? {
        var out: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            guard b == UInt8(ascii: "%") else { out.append(b); continue }
            guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            out.append(v)
            it = it.dropFirst(2)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Resolves names for callers outside Transport (the webhook SSRF guard behind a proxy).
public enum HostResolver {
    /// Resolves `host` off the loop; the completion runs on the loop with each address given to
    /// `judge` as a `sockaddr`, or with the failure's message.
    public static func resolve(host: String, port: Int, on loop: EventLoop,
                               _ completion: @escaping (Result<[[UInt8]], TransportError>) -> Void) {
        DNSResolver.resolve(host: host, port: port, on: loop) { result in
            switch result {
            case .success(let list): completion(.success(list.map(\.bytes)))
            case .failure(let e): completion(.failure(TransportError(kind: .dnsFailure, peer: "\(host):\(port)", message: e.message)))
            }
        }
    }
}
