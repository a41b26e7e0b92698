import Foundation
import Testing
import TestSupport

/// Issue 12 item 8: a server that accepts the TCP connection and never answers the WebSocket
/// upgrade is dropped after `--connect-timeout`, not after the Engine.IO liveness (~20 s).
@Suite struct HandshakeTimeoutTests {
    @Test func stalledUpgradeIsDroppedAfterTheConnectTimeout() throws {
        // A listener that never accepts: the kernel completes the TCP handshake, nobody answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let token = try DemoWorld.shared.tokenFile()
        let tail = try BridgeProcess(["tail", "--url", "ws://127.0.0.1:\(port)", "--tenant", DemoWorld.tenant, "--token-file", token,
                                      "--transport", "websocket", "--connect-timeout", "1s", "--log-level", "info"])
        #expect(tail.waitForStderr("WebSocket handshake not complete within 1000 ms", timeout: 8), "\(tail.stderr)")
        tail.signal(2)
        _ = tail.wait()
    }

    @Test func absurdConnectTimeoutIsAUsageErrorNotATrap() throws {
        let r = try BridgeProcess.run(["tail", "--url", "ws://127.0.0.1:9", "--tenant", "t", "--token-file", "/nonexistent",
                                       "--connect-timeout", "1e300s"])
        #expect(r.status != 132 && r.status != 133 && r.status != 134)
        #expect(r.status != 0)
    }
}
