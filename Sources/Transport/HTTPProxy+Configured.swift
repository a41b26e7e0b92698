import Synchronization

/// Proxy settings from the configuration (`server { proxy = ...  no_proxy = [...]  proxy_auth =
/// env:NAME }`), which win over the environment for every transport. Set by `run` at start and at
/// each reload; nil (the default) leaves the choice to the environment variables.
public struct ProxyPolicy: Sendable, Equatable {
    /// `http://host:port` for every destination, `direct` for none (the environment's proxy
    /// variables ignored), nil to take the proxy from the environment.
    public var proxy: String?
    /// Replaces `NO_PROXY` when set (comma-separated, the same forms).
    public var noProxy: String?
    /// `user:password` for `Proxy-Authorization: Basic`, read from the configured reference.
    public var credentials: String?

    public init(proxy: String? = nil, noProxy: String? = nil, credentials: String? = nil) {
        self.proxy = proxy
        self.noProxy = noProxy
        self.credentials = credentials
    }

    /// The word that turns the proxy off.
    public static let direct = "direct"
}

private let configuredPolicy = Mutex<ProxyPolicy?>(nil)

extension HTTPProxy {
    /// The configuration's proxy settings in force (nil: the environment alone decides).
    public static var configured: ProxyPolicy? {
        get { configuredPolicy.withLock { $0 } }
        set { configuredPolicy.withLock { $0 = newValue } }
    }

    /// The configured proxy URL (`proxy_auth` applied) or the environment's, and the no-proxy
    /// list in force; nil `url` when there is no proxy.
    static func choice(secure: Bool, env: (String) -> String?) -> (url: String?, noProxy: String?, credentials: String?) {
        let policy = configured
        let url: String?
        if let p = policy?.proxy {
            url = p == ProxyPolicy.direct ? nil : p
        } else {
            let chosen = secure ? (env("https_proxy") ?? env("HTTPS_PROXY")) : (env("http_proxy") ?? env("HTTP_PROXY"))
            url = chosen ?? env("all_proxy") ?? env("ALL_PROXY")
        }
        return (url, policy?.noProxy ?? env("no_proxy") ?? env("NO_PROXY"), policy?.credentials)
    }

    /// `credentials` (`user:password`) replacing any in the URL, percent-encoded for libcurl.
    mutating func authenticate(_ userPassword: String) {
        credentials = userPassword
        let (user, password) = userPassword.firstIndex(of: ":").map {
            (String(userPassword[..<$0]), String(userPassword[userPassword.index(after: $0)...]))
        } ?? (userPassword, "")
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        url = "http://\(Self.percentEncoded(user)):\(Self.percentEncoded(password))@\(authority)"
    }

    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        return out
    }
}
