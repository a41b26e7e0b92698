import Glibc
@testable import Transport
import TestSupport

/// A throw-away CA and a server certificate for `localhost` and `127.0.0.1`, generated once per
/// test process with the `openssl` CLI into a temporary directory.
struct TestPKI: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var certFile: String { directory + "/server.pem" }
    var keyFile: String { directory + "/server.key" }

    /// The test run's throw-away CA and server certificate (TestSupport makes them once).
    static let shared: TestPKI? = ThrowawayPKI.shared.map { TestPKI(directory: $0.directory) }

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
