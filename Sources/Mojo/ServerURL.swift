/// A MOJO server address: `ws://`, `wss://`, `http://` or `https://`, host, port and Socket.IO path.
///
/// `http(s)` and `ws(s)` name the same server (Engine.IO serves both transports on one path);
/// the scheme only decides TLS.
public struct ServerURL: Sendable, Equatable, CustomStringConvertible {
    /// Whether the connection uses TLS.
    public var secure: Bool
    /// Host name or IP literal (without brackets).
    public var host: String
    /// TCP port.
    public var port: Int
    /// The Engine.IO path, with leading and trailing slash (default `/socket.io/`).
    public var path: String

    /// Parses `url`; `path` overrides the Socket.IO path (else the URL's path if any, else `/socket.io/`).
    public init(_ url: String, path override: String? = nil) throws(ServerURLError) {
        let chars = Array(url)
        guard let sep = (0..<max(0, chars.count - 2)).first(where: { chars[$0] == ":" && chars[$0 + 1] == "/" && chars[$0 + 2] == "/" }) else {
            throw .missingScheme(url)
        }
        let scheme = String(chars[..<sep]).lowercased()
        switch scheme {
        case "ws", "http": secure = false
        case "wss", "https": secure = true
        default: throw .unsupportedScheme(scheme)
        }
        var rest = Substring(String(chars[(sep + 3)...]))
        if rest.contains("@") { throw .credentialsInURL }
        var urlPath = ""
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            urlPath = String(rest[slash...])
            rest = rest[..<slash]
        }
        var hostPart = Substring(rest)
        var portText: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw .badHost(String(rest)) }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw .badHost(String(rest)) }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portText = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else { throw .badHost(String(rest)) }
        host = String(hostPart)
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw .badPort(String(portText)) }
            port = p
        } else {
            port = secure ? 443 : 80
        }
        if let q = urlPath.firstIndex(of: "?") { urlPath = String(urlPath[..<q]) }
        var p = override ?? (urlPath.isEmpty || urlPath == "/" ? "/socket.io/" : urlPath)
        if !p.hasPrefix("/") { p = "/" + p }
        if !p.hasSuffix("/") { p += "/" }
        guard !p.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" || $0 == "?" || $0 == "#" }) else { throw .badPath(p) }
        path = p
    }

    /// The `Host` header value: the host, bracketed when IPv6, with the port when not the default.
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? h : "\(h):\(port)"
    }

    /// The request target for an Engine.IO request, e.g. `/socket.io/?EIO=4&transport=websocket`.
    public func target(transport: String, sid: String? = nil) -> String {
        var t = "\(path)?EIO=4&transport=\(transport)"
        if let sid { t += "&sid=\(percentEncoded(sid))" }
        return t
    }

    /// An absolute http(s) URL for the polling transport.
    public func httpURL(transport: String, sid: String? = nil) -> String {
        "\(secure ? "https" : "http")://\(hostHeader)\(target(transport: transport, sid: sid))"
    }

    public var description: String { "\(secure ? "wss" : "ws")://\(hostHeader)\(path)" }

    private func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if c.isLetter && b < 0x80 || c.isNumber && b < 0x80 || c == "-" || c == "_" || c == "." || c == "~" { out.append(c) } else {
                let hex = Array("0123456789ABCDEF")
                out.append("%"); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
        }
        return out
    }
}

/// Why a server URL was refused.
public enum ServerURLError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingScheme(String)
    case unsupportedScheme(String)
    case credentialsInURL
    case badHost(String)
    case badPort(String)
    case badPath(String)

    public var description: String {
        switch self {
        case .missingScheme(let u): "server URL `\(u)` has no scheme (use ws://, wss://, http:// or https://)"
        case .unsupportedScheme(let s): "unsupported URL scheme `\(s)` (use ws://, wss://, http:// or https://)"
        case .credentialsInURL: "credentials in the server URL are refused: pass the token with MOJO_TOKEN, --token-file or --token-command"
        case .badHost(let h): "bad host `\(h)` in the server URL"
        case .badPort(let p): "bad port `\(p)` in the server URL"
        case .badPath(let p): "bad Socket.IO path `\(p)`"
        }
    }
}
