import Foundation

/// A throw-away CA and a server certificate for `localhost` and `127.0.0.1`, made with the
/// `openssl` CLI into a temporary directory once per test process.
public struct ThrowawayPKI: Sendable {
    public let directory: String
    public var caFile: String { directory + "/ca.pem" }
    public var certFile: String { directory + "/server.pem" }
    public var keyFile: String { directory + "/server.key" }

    /// Made on first use; nil when `openssl` is missing or fails.
    public static let shared: ThrowawayPKI? = try? ThrowawayPKI.generate()

    /// A certificate directory in OpenSSL's hashed layout (`<subject hash>.0`) holding only this
    /// CA, as update-ca-certificates lays out /etc/ssl/certs: for `SSL_CERT_DIR`.
    public func hashedDirectory() throws -> String {
        let out = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["x509", "-hash", "-noout", "-in", caFile]
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let hash = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        guard p.terminationStatus == 0, hash.count == 8 else { throw DevServerError.control("openssl x509 -hash failed") }
        let directory = try RepoPaths.temporaryDirectory("mojo-certdir")
        try FileManager.default.copyItem(atPath: caFile, toPath: directory + "/" + hash + ".0")
        return directory
    }

    static func generate() throws -> ThrowawayPKI {
        let directory = try RepoPaths.temporaryDirectory("mojo-pki")
        let pki = ThrowawayPKI(directory: directory)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let steps: [[String]] = [
            ["req", "-x509"] + ec + ["-keyout", directory + "/ca.key", "-out", pki.caFile, "-days", "2", "-subj", "/CN=mojo-bridge test CA"],
            ["req"] + ec + ["-keyout", pki.keyFile, "-out", directory + "/server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", directory + "/server.csr", "-CA", pki.caFile, "-CAkey", directory + "/ca.key",
             "-CAcreateserial", "-out", pki.certFile, "-days", "2", "-extfile", directory + "/server.ext"],
        ]
        for step in steps {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = step
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw DevServerError.control("openssl \(step.joined(separator: " ")) failed") }
        }
        return pki
    }
}
