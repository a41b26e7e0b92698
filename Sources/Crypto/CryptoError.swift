import COpenSSL

/// An OpenSSL primitive failed (allocation failure, or a broken provider configuration).
///
/// Never papered over: signing, hashing and randomness fail closed with this error.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The OpenSSL function that failed, e.g. `"RAND_bytes"`.
    public var function: String
    /// OpenSSL's error text (from its error queue), or a note when the queue was empty.
    public var message: String

    /// Creates an error.
    public init(function: String, message: String) {
        self.function = function
        self.message = message
    }

    /// `"<function>: <message>"`.
    public var description: String { "\(function): \(message)" }

    /// Drains OpenSSL's thread-local error queue into an error for `function`.
    static func fromQueue(_ function: String) -> CryptoError {
        var texts: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            texts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return CryptoError(function: function, message: texts.isEmpty ? "failed (no OpenSSL error queued)" : texts.joined(separator: "; "))
    }
}
