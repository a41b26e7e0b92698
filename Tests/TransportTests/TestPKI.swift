import Glibc
@testable import Transport

/// A throw-away CA and a server certificate for `localhost` and `127.0.0.1`, generated once per
/// test process with the `openssl` CLI into a temporary directory.
struct TestPKI: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var certFile: String { directory + "/server.pem" }
    var keyFile: String { directory + "/server.key" }

    /// Created on first use (Swift globals are initialised once, thread-safely).
    static let shared: TestPKI? = try? TestPKI.generate()

    private static func generate() throws -> TestPKI {
        var template = Array("/tmp/mojo-tls-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw IOError(errno: errno, function: "mkdtemp") }
        let directory = String(cString: dir)
        let pki = TestPKI(directory: directory)
        let ext = directory + "/server.ext"
        let text = "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        guard let file = fopen(ext, "w") else { throw IOError(errno: errno, function: "fopen") }
        fputs(text, file)
        fclose(file)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let steps: [[String]] = [
            ["openssl", "req", "-x509"] + ec + ["-keyout", directory + "/ca.key", "-out", pki.caFile,
             "-days", "2", "-subj", "/CN=mojo-bridge test CA"],
            ["openssl", "req"] + ec + ["-keyout", pki.keyFile, "-out", directory + "/server.csr", "-subj", "/CN=localhost"],
            ["openssl", "x509", "-req", "-in", directory + "/server.csr", "-CA", pki.caFile, "-CAkey", directory + "/ca.key",
             "-CAcreateserial", "-out", pki.certFile, "-days", "2", "-extfile", ext],
        ]
        for step in steps {
            guard try ChildProcess.run(step) else { throw IOError(errno: 0, function: step.joined(separator: " ")) }
        }
        return pki
    }

    /// Starts `openssl s_server -rev` (echoes each line reversed) on a kernel-chosen port of
    /// 127.0.0.1 for one connection; returns it and the port once it printed `ACCEPT`.
    func startServer(alpn: String = "http/1.1") throws -> (ChildProcess, Int)? {
        let server = try ChildProcess(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", certFile,
                                       "-key", keyFile, "-rev", "-naccept", "1", "-alpn", alpn])
        guard let line = server.awaitLine(prefix: "ACCEPT"),
              let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]) else {
            return nil
        }
        return (server, port)
    }
}
