import Rules
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Reads secrets by reference (`env:NAME`, `file:PATH`) at sink start and reload; the values
/// never reach a log line or a command line.
enum SecretResolver {
    /// The secret's value, surrounding whitespace removed, or why it could not be read.
    static func value(of ref: SecretRef) -> Result<String, SecretError> {
        switch ref {
        case .env(let name):
            guard let v = getenv(name), v.pointee != 0 else { return .failure(SecretError("environment variable \(name) is not set")) }
            return .success(trim(String(cString: v)))
        case .file(let path):
            switch FileReader.read(path: path, maxBytes: 65_536, regularFileOnly: true) {
            case .failure(let e): return .failure(SecretError("cannot read \(path): \(e.description)"))
            case .success(let bytes): return .success(trim(String(decoding: bytes, as: UTF8.self)))
            }
        case .command:
            return .failure(SecretError("a command is not accepted for this secret"))
        }
    }

    private static func trim(_ s: String) -> String {
        var t = Substring(s)
        while let c = t.first, c == " " || c == "\n" || c == "\r" || c == "\t" { t = t.dropFirst() }
        while let c = t.last, c == " " || c == "\n" || c == "\r" || c == "\t" { t = t.dropLast() }
        return String(t)
    }
}

/// A secret that could not be read; says which, never what.
struct SecretError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
