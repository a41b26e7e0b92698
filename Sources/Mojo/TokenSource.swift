import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Where a tenant's JWT comes from. Re-read at every connect attempt: Clerk session tokens live
/// about a minute, so a token is never cached across attempts.
public enum TokenSource: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable (`MOJO_TOKEN` by default), read at every attempt.
    case environment(String)
    /// A file re-read at every attempt (surrounding whitespace ignored).
    case file(String)
    /// A command (argv, no shell) run at every attempt; its stdout is the token.
    case command([String])
    /// A fixed token (tests, or a token taken from the environment once by a front end).
    case literal(String)

    /// A description safe for logs: names the source, never the token.
    public var description: String {
        switch self {
        case .environment(let name): "env:\(name)"
        case .file(let path): "file:\(path)"
        case .command(let argv): "command:\(argv.first ?? "")"
        case .literal: "literal"
        }
    }
}

/// A token ready for use, with the claims read from it.
public struct Token: Sendable {
    /// The compact JWT. Never log it.
    public let value: String
    /// Its unverified claims.
    public let claims: JWTClaims
}

/// Fetches tokens from a `TokenSource` on the event loop, at every connect attempt.
public final class TokenProvider {
    /// The source.
    public let source: TokenSource
    /// A token with fewer seconds than this left is refreshed (re-read) before connecting; if the
    /// fresh read is no better, connecting is refused with `TokenError.expired`.
    public var refreshMarginSeconds: Int64 = 5
    private let loop: EventLoop
    private let reaper: ChildReaper?
    private let environment: @Sendable (String) -> String?
    private let nowUnix: @Sendable () -> Int64

    /// Creates a provider. `reaper` is required for `.command` sources.
    public init(source: TokenSource, loop: EventLoop, reaper: ChildReaper?,
                environment: @escaping @Sendable (String) -> String? = { name in getenv(name).map { String(cString: $0) } },
                nowUnix: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) {
        self.source = source
        self.loop = loop
        self.reaper = reaper
        self.environment = environment
        self.nowUnix = nowUnix
    }

    /// Reads a fresh token; `completion` runs on the loop.
    public func fetch(_ completion: @escaping (Result<Token, TokenError>) -> Void) {
        switch source {
        case .literal(let t):
            completion(validate(t))
        case .environment(let name):
            guard let t = environment(name)?.trimmingWhitespace, !t.isEmpty else {
                completion(.failure(.environmentUnset(name))); return
            }
            completion(validate(t))
        case .file(let path):
            switch FileReader.read(path: path, maxBytes: 65_536) {
            case .failure(let e): completion(.failure(.fileUnreadable(path: path, reason: e.description)))
            case .success(let bytes):
                let t = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
                completion(t.isEmpty ? .failure(.fileEmpty(path: path)) : validate(t))
            }
        case .command(let argv):
            guard let reaper else {
                completion(.failure(.commandFailed(command: argv.first ?? "", reason: "no child reaper on this loop"))); return
            }
            let name = argv.first ?? ""
            CommandRunner.run(argv, on: loop, reaper: reaper) { [self] result in
                switch result {
                case .failure(let f):
                    completion(.failure(.commandFailed(command: name, reason: f.description)))
                case .success(let out):
                    guard out.exit == .exited(0) else {
                        let detail = String(decoding: out.stderr.prefix(300), as: UTF8.self).trimmingWhitespace
                        completion(.failure(.commandFailed(command: name, reason: "\(out.exit)" + (detail.isEmpty ? "" : ": \(detail)"))))
                        return
                    }
                    let t = String(decoding: out.stdout, as: UTF8.self).trimmingWhitespace
                    completion(t.isEmpty ? .failure(.commandFailed(command: name, reason: "printed no token")) : validate(t))
                }
            }
        }
    }

    private func validate(_ raw: String) -> Result<Token, TokenError> {
        do {
            let claims = try JWTClaims(token: raw)
            if let left = claims.secondsLeft(nowUnix: nowUnix()), left < refreshMarginSeconds {
                return .failure(.expired(secondsAgo: -left))
            }
            return .success(Token(value: raw, claims: claims))
        } catch {
            return .failure(error)
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace (spaces, tabs, CR, LF).
    var trimmingWhitespace: String {
        let u = Array(utf8)
        var a = 0, b = u.count
        while a < b, u[a] == 0x20 || u[a] == 0x09 || u[a] == 0x0A || u[a] == 0x0D { a += 1 }
        while b > a, u[b - 1] == 0x20 || u[b - 1] == 0x09 || u[b - 1] == 0x0A || u[b - 1] == 0x0D { b -= 1 }
        return String(decoding: u[a..<b], as: UTF8.self)
    }
}
