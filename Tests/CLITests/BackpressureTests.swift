import Foundation
import JSON
import Testing
import TestSupport

/// Backpressure end to end (issue 11) against Tests/Peers/pressure_server.py, a server that
/// pushes as fast as the client's socket takes events (or floods pings and never reads): memory
/// stays bounded behind a slow consumer, nothing is lost, a peer that never reads is dropped.
@Suite(.serialized) struct BackpressureTests {
    /// Bound on the RSS of a debug `mojo-bridge` (idle: about 15 MB) while the server pushes tens
    /// of MB it may not hold: without backpressure it holds all of them.
    static let rssBoundKiB = 32 * 1024

    // MARK: tail behind a stdout nobody reads

    @Test func tailBehindAStalledStdoutStopsReadingThenDeliversEverythingInOrder() throws {
        let peer = try PythonPeer("pressure_server.py")
        let dir = try RepoPaths.temporaryDirectory("mojo-pressure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = try Self.tokenFile(in: dir)
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let errPath = dir + "/stderr"
        let errFD = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = [RepoPaths.bridgeExecutable, "tail", "--url", "http://127.0.0.1:\(peer.port)", "--tenant", "org_pressure",
                    "--token-file", token, "--transport", "websocket", "--log-level", "debug"]
        let pid = try spawnTestChild(argv, stdin: nil, stdout: fds[1], stderr: errFD).get()
        close(fds[1])
        close(errFD)
        defer { kill(pid, SIGKILL); var s: Int32 = 0; waitpid(pid, &s, 0); close(fds[0]) }
        try #require(Self.await(timeout: 15) { (try? peer.control.get("/control/stats")["connects"]?.intValue) == 1 },
                     "tail did not connect: \(Self.read(errPath))")

        // 48 MB: more than the kernel's socket buffers on both sides can absorb.
        let n = 12_000
        try peer.control.post("/control/blast?n=\(n)&size=4096", [:])
        var peak = 0
        var written = 0
        var stableSince = Date()
        // The server is held back once tail stops reading: its count stops moving short of n.
        while Date().timeIntervalSince(stableSince) < 2 {
            peak = max(peak, Self.rssKiB(pid))
            let now = try peer.control.get("/control/stats")["written"]?.intValue ?? 0
            if now != written { written = now; stableSince = Date() }
            if written >= n { break }
            usleep(50_000)
        }
        #expect(written < n, "the server wrote all \(n) events: tail kept reading with stdout stalled")
        #expect(peak < Self.rssBoundKiB, "peak RSS \(peak) KiB while stdout was stalled")
        #expect(Self.read(errPath).contains("reading paused"), "\(Self.read(errPath))")

        // The reader comes back: every event arrives, once, in order.
        var seqs: [Int] = []
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while seqs.count < n {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, $0.count) }
            guard got > 0 else { break }
            buffer.append(contentsOf: chunk[0..<got])
            while let nl = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                let content = try JSONValue(parsing: line)["data"]?["message"]?["content"]?.stringValue ?? ""
                seqs.append(Int(content.dropFirst(4).prefix(8)) ?? -1)
            }
            peak = max(peak, Self.rssKiB(pid))
        }
        #expect(seqs == Array(1...n), "\(seqs.count) events, first out of order at \(String(describing: zip(seqs, 1...n).first { $0 != $1 }))")
        #expect(peak < Self.rssBoundKiB, "peak RSS \(peak) KiB")
    }

    // MARK: ping floods

    @Test func engineIOPingFloodFromAPeerThatNeverReadsIsDisconnectedWithTheReason() throws {
        let peer = try PythonPeer("pressure_server.py", arguments: ["--ping-flood", "eio"])
        let dir = try RepoPaths.temporaryDirectory("mojo-pressure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tail = try BridgeProcess(["tail", "--url", "http://127.0.0.1:\(peer.port)", "--tenant", "org_pressure",
                                      "--token-file", try Self.tokenFile(in: dir), "--transport", "websocket", "--retry", "--log-level", "info"])
        defer { tail.signal(SIGKILL); _ = tail.wait() }
        #expect(tail.waitForStderr("the peer is not reading", timeout: 90), "\(tail.stderr)")
        #expect(tail.stderr.contains("over the limit of 4194304"), "\(tail.stderr)")
        // It reconnects (and is flooded again): the daemon goes on.
        #expect(Self.await(timeout: 20) { (try? peer.control.get("/control/stats")["connects"]?.intValue ?? 0) ?? 0 >= 2 })
    }

    @Test func webSocketPingFloodKeepsMemoryBoundedAndTheSessionUp() throws {
        let peer = try PythonPeer("pressure_server.py", arguments: ["--ping-flood", "ws"])
        let dir = try RepoPaths.temporaryDirectory("mojo-pressure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tail = try BridgeProcess(["tail", "--url", "http://127.0.0.1:\(peer.port)", "--tenant", "org_pressure",
                                      "--token-file", try Self.tokenFile(in: dir), "--transport", "websocket", "--retry", "--log-level", "info"])
        defer { tail.signal(SIGKILL); _ = tail.wait() }
        try #require(tail.waitForStderr("msg=connected"), "\(tail.stderr)")
        var peak = 0
        // 300,000 pings of 125 bytes (37 MB of pongs if each were answered and kept).
        let reached = Self.await(timeout: 120) {
            peak = max(peak, Self.rssKiB(tail.pid))
            return (try? peer.control.get("/control/stats")["pings"]?.intValue ?? 0) ?? 0 >= 300_000
        }
        #expect(reached)
        #expect(peak < Self.rssBoundKiB, "peak RSS \(peak) KiB")
        #expect((try peer.control.get("/control/stats"))["connects"]?.intValue == 1, "\(tail.stderr)")
    }

    // MARK: run, when_full = block

    @Test func aFullSpoolWithBlockPausesTheSessionAndResumesWithNothingLost() throws {
        let peer = try PythonPeer("pressure_server.py")
        let dir = try RepoPaths.temporaryDirectory("mojo-pressure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The child waits for the test's word before it reads anything.
        let gate = dir + "/gate", out = dir + "/out"
        try #require(mkfifo(gate, 0o600) == 0)
        let child = dir + "/child.sh"
        try "#!/bin/sh\nread go < \"$1\"\nexec cat > \"$2\"\n".write(toFile: child, atomically: true, encoding: .utf8)
        chmod(child, 0o755)
        let admin = try Self.freePort()
        let config = """
        server { url = "http://127.0.0.1:\(peer.port)"  transport = websocket }
        tenant org_pressure { token = file:\(try Self.tokenFile(in: dir)) }
        sink slow { type = pipe  command = ["\(child)", "\(gate)", "\(out)"]  per = route  format = json  when_full = block }
        route all { conversation = "*"  to = slow }
        spool { dir = "\(dir)/spool"  max_size = 1MiB }
        admin { listen = "127.0.0.1:\(admin)" }
        log { level = info }
        """
        try config.write(toFile: dir + "/bridge.conf", atomically: true, encoding: .utf8)
        let daemon = try BridgeProcess(["run", "--config", dir + "/bridge.conf"])
        defer { daemon.signal(SIGKILL); _ = daemon.wait() }
        try #require(daemon.waitForStderr("msg=connected"), "\(daemon.stderr)")
        #expect(try Self.metric(admin, "mojo_bridge_session_reading_paused") == 0)

        let n = 5_000   // 20 MB of events for a 1 MiB spool, a 1 MiB pipe and 1,000 in flight
        try peer.control.post("/control/blast?n=\(n)&size=4096", [:])
        #expect(daemon.waitForStderr("spool full: sessions stop reading from MOJO", timeout: 30), "\(daemon.stderr)")
        #expect(try Self.metric(admin, "mojo_bridge_session_reading_paused") == 1)
        #expect(try Self.metric(admin, "mojo_bridge_backpressure_pauses_total") == 1)
        let heldBack = try peer.control.get("/control/stats")["written"]?.intValue ?? 0
        #expect(heldBack < n, "the server could write everything: nothing was paused")

        // The child starts reading: the spool drains, the session reads again, all arrive in order.
        let w = open(gate, O_WRONLY)
        _ = "go\n".withCString { Glibc.write(w, $0, 3) }
        close(w)
        #expect(daemon.waitForStderr("spool has room again", timeout: 60), "\(daemon.stderr)")
        let complete = Self.await(timeout: 120) { Self.lineCount(out) >= n }
        #expect(complete, "\(Self.lineCount(out)) of \(n) delivered\n\(daemon.stderr)")
        let seqs = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").map { line -> Int in
            let content = (try? JSONValue(parsing: Array(line.utf8)))?["data"]?["message"]?["content"]?.stringValue ?? ""
            return Int(content.dropFirst(4).prefix(8)) ?? -1
        } ?? []
        #expect(seqs == Array(1...n), "\(seqs.count) events delivered")
        #expect(try Self.metric(admin, "mojo_bridge_events_dropped_total") == 0)
        #expect(!daemon.stderr.contains("event refused"), "\(daemon.stderr)")
    }

    @Test func spillIsRefusedByCheckWithAHint() throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-pressure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        server { url = "ws://127.0.0.1:9"  transport = websocket }
        tenant org_x { token = env:NO_SUCH_TOKEN }
        sink s { type = pipe  command = ["/bin/cat"]  when_full = spill }
        route r { conversation = "*"  to = s }
        spool { dir = "\(dir)/spool" }
        """.write(toFile: dir + "/s.conf", atomically: true, encoding: .utf8)
        let r = try BridgeProcess.run(["check", "--config", dir + "/s.conf"], environment: ["NO_SUCH_TOKEN": "x"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("s.conf:3:59: error: `when_full = spill` was removed") || r.stdout.contains("`when_full = spill` was removed"),
                "\(r.stdout)\(r.stderr)")
        #expect((r.stdout + r.stderr).contains("hint: use `when_full = block`"))
    }

    // MARK: helpers

    static func rssKiB(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
    static func await(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    static func lineCount(_ path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// A JWT-shaped token (the client reads only `sub` and `exp`) in a 0600 file.
    static func tokenFile(in dir: String) throws -> String {
        func b64url(_ v: JSONValue) -> String {
            Data(v.serialized().utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let exp = Int(Date().timeIntervalSince1970) + 3600
        let token = b64url(["alg": "HS256", "typ": "JWT"]) + "." + b64url(["sub": "user_bridge", "exp": JSONValue(exp)]) + ".c2ln"
        let path = dir + "/token"
        _ = FileManager.default.createFile(atPath: path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// One sample's value from the admin server's /metrics (plain HTTP GET).
    static func metric(_ port: Int, _ name: String) throws -> Double? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buf[0..<n])
        }
        for line in String(decoding: response, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}
