#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JSON
import Testing
import TestSupport

/// Deployment features of `run`: configuration from the environment, sidecar readiness, the
/// `health` probe, systemd notifications and sharding across replicas.
@Suite(.serialized) struct DeployTests {
    let world = DemoWorld.shared

    /// The admin port a daemon printed (`admin server listening ... port=N`).
    func adminPort(_ p: BridgeProcess) throws -> Int {
        #expect(p.waitForStderr("admin server listening"))
        let line = try #require(p.stderr.split(separator: "\n").first { $0.contains("admin server listening") })
        return try #require(line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) })
    }

    /// `mojo-bridge health --url ...`: its exit status and output.
    func health(_ url: String) throws -> (status: Int32, output: String) {
        let r = try BridgeProcess.run(["health", "--url", url, "--timeout", "2s"])
        return (r.status, r.stdout + r.stderr)
    }

    @Test func aRulesOnlyFileIsCompletedFromTheEnvironmentAndChecked() throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-envconf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/tokens", withIntermediateDirectories: true)
        for t in ["org_a", "org_b"] { try "jwt\n".write(toFile: "\(dir)/tokens/\(t)", atomically: true, encoding: .utf8) }
        try "sink bot { type = pipe  command = [\"/bin/true\"] }\nroute all { to = bot }\n".write(toFile: dir + "/rules.conf", atomically: true, encoding: .utf8)
        let env = ["MOJO_BRIDGE_CONFIG": dir + "/rules.conf", "MOJO_URL": "wss://mojo.example", "MOJO_TENANTS": "org_a,org_b",
                   "MOJO_TOKEN_FILE": dir + "/tokens/{tenant}"]
        let ok = try BridgeProcess.run(["check"], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("ok (2 tenants, 1 sink, 1 route"), "\(ok.stdout)")
        var broken = env
        broken["MOJO_TENANTS"] = "org_a,org_c"
        let bad = try BridgeProcess.run(["check"], environment: broken)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("env:MOJO_TOKEN_FILE:1:1: error: cannot read the token file of tenant org_c, "), "\(bad.stderr)")
        #expect(bad.stderr.contains("/tokens/org_c: No such file or directory"), "\(bad.stderr)")
        let none = try BridgeProcess.run(["check"], environment: ["MOJO_BRIDGE_CONFIG": dir + "/rules.conf"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no `server` block and MOJO_URL is not set"))
    }

    @Test func helpListsEveryEnvironmentVariable() throws {
        let r = try BridgeProcess.run(["--help"])
        for name in ["MOJO_BRIDGE_CONFIG", "MOJO_LOG_LEVEL", "MOJO_LOG_FORMAT", "MOJO_URL", "MOJO_CA_FILE", "MOJO_TENANT", "MOJO_TENANTS",
                     "MOJO_TOKEN_FILE", "MOJO_TOKEN", "MOJO_SHARD", "MOJO_HEALTH_URL", "NOTIFY_SOCKET", "WATCHDOG_USEC"] {
            #expect(r.stdout.contains(name), "\(name) missing from --help")
        }
    }

    /// With MOJO unreachable, `readiness = sidecar` keeps /readyz at 200 (reporting the session)
    /// while the default answers 503; /healthz is 200 either way; `health` probes both.
    @Test(arguments: ["sidecar", "strict"]) func readinessWhileMojoIsUnreachable(mode: String) throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-ready")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            server { url = "ws://127.0.0.1:1"  transport = websocket }
            tenant org_demo { token = env:MOJO_TOKEN }
            spool { dir = "\(dir)/spool" }
            admin { listen = "127.0.0.1:0"  readiness = \(mode) }
            """.write(toFile: dir + "/bridge.conf", atomically: true, encoding: .utf8)
        let p = try BridgeProcess(["run", "--config", dir + "/bridge.conf"], environment: ["MOJO_TOKEN": "jwt"])
        let port = try adminPort(p)
        let live = try health("http://127.0.0.1:\(port)/healthz")
        #expect(live.status == 0, "\(live.output)")
        let ready = try health("http://127.0.0.1:\(port)/readyz")
        #expect(ready.status == (mode == "sidecar" ? 0 : 1), "\(ready.output)")
        #expect(ready.output.contains(mode == "sidecar" ? ": 200" : ": 503"), "\(ready.output)")
        let body = try RawHTTP(port: port).send("GET", "/readyz").body
        #expect(body.contains("tenant org_demo not connected"), "\(body)")
        #expect(body.contains("\"mojo\":\"degraded\"") == (mode == "sidecar"), "\(body)")
        p.signal(SIGTERM)
        #expect(p.wait() == 0)
        // Nothing listening: exit 1 with the reason.
        let down = try health("http://127.0.0.1:\(port)/healthz")
        #expect(down.status == 1)
        #expect(down.output.contains("connect"), "\(down.output)")
        #expect(try BridgeProcess.run(["health", "--url", "https://x/"]).status == 64)
    }

    /// `Type=notify`: READY=1 once the session is up, RELOADING=1 (with MONOTONIC_USEC) and READY=1
    /// around a SIGHUP reload, STOPPING=1 at SIGTERM, WATCHDOG=1 every half WATCHDOG_USEC.
    @Test(arguments: [false, true]) func systemdNotificationsArriveInOrder(abstract: Bool) throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-notify")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = abstract ? "@mojo-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" : dir + "/notify.sock"
        let socket = try NotifySocket(name)
        let token = try world.tokenFile()
        try """
            server { url = "\(world.url)"  transport = websocket }
            tenant org_demo { token = file:\(token) }
            spool { dir = "\(dir)/spool" }
            """.write(toFile: dir + "/bridge.conf", atomically: true, encoding: .utf8)
        let p = try BridgeProcess(["run", "--config", dir + "/bridge.conf"],
                                  environment: ["NOTIFY_SOCKET": name, "WATCHDOG_USEC": "200000"])
        var seen: [String] = []
        var watchdogs = 0
        func next() -> String? {
            while let m = socket.receive(timeoutMs: 10_000) {
                if m == "WATCHDOG=1" { watchdogs += 1; continue }
                seen.append(m)
                return m
            }
            return nil
        }
        let ready = try #require(next())
        #expect(ready.hasPrefix("READY=1\nSTATUS=1 tenant session"), "\(ready)")
        // strict readiness: READY=1 only after the session connected.
        #expect(p.stderr.contains("msg=connected") || p.waitForStderr("msg=connected", timeout: 0.5))
        p.signal(SIGHUP)
        let reloading = try #require(next())
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), "\(reloading)")
        let usec = UInt64(reloading.split(separator: "=").last ?? "") ?? 0
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        #expect(usec > 0 && usec <= UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)
        #expect(next() == "READY=1\nSTATUS=configuration reloaded")
        p.signal(SIGTERM)
        #expect(next() == "STOPPING=1")
        #expect(p.wait() == 0)
        #expect(watchdogs >= 1, "no WATCHDOG=1 among \(seen)")
        #expect(seen.count == 4, "\(seen)")
    }

    /// Two daemons with shards 0/2 and 1/2 of one configuration hold disjoint sessions whose union
    /// is every tenant, as the dev server's socket list shows, each with its own spool.
    @Test func twoShardsSplitTheTenants() throws {
        let dir = try RepoPaths.temporaryDirectory("mojo-shards")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let tenants = (0..<8).map { "org_shard\(suffix)_\($0)" }
        let user = "user_shard_\(suffix)"
        let control = world.control
        for t in tenants { try control.post("/control/tenants", ["id": .string(t)]) }
        try control.post("/control/users", ["id": .string(user), "tenants": .array(tenants.map { .string($0) })])
        try FileManager.default.createDirectory(atPath: dir + "/tokens", withIntermediateDirectories: true)
        for t in tenants {
            let r = try control.post("/control/tokens", ["userId": .string(user), "orgId": .string(t)])
            try (r["token"]?.stringValue ?? "").write(toFile: "\(dir)/tokens/\(t)", atomically: true, encoding: .utf8)
        }
        try "spool { dir = \"\(dir)/spool\" }\n".write(toFile: dir + "/rules.conf", atomically: true, encoding: .utf8)
        let env = ["MOJO_URL": world.url, "MOJO_TENANTS": tenants.joined(separator: " "), "MOJO_TOKEN_FILE": dir + "/tokens/{tenant}"]
        let a = try BridgeProcess(["run", "--config", dir + "/rules.conf", "--shard", "0/2"], environment: env)
        var envB = env
        envB["MOJO_SHARD"] = "1/2"
        let b = try BridgeProcess(["run", "--config", dir + "/rules.conf"], environment: envB)
        var held: [Set<String>] = []
        for p in [a, b] {
            #expect(p.waitForStderr("msg=shard"), "\(p.stderr)")
            let line = try #require(p.stderr.split(separator: "\n").first { $0.contains("msg=shard") })
            let count = try #require(line.split(separator: " ").first { $0.hasPrefix("tenants=") }.flatMap { Int($0.dropFirst(8)) })
            #expect(p.waitForStderr("msg=connected", occurrences: count, timeout: 15), "\(p.stderr)")
            let connected = p.stderr.split(separator: "\n").filter { $0.contains("msg=connected") }
            held.append(Set(connected.compactMap { $0.split(separator: " ").first { $0.hasPrefix("tenant=") }.map { String($0.dropFirst(7)) } }))
            #expect(held.last?.count == count)
        }
        #expect(held[0].isDisjoint(with: held[1]), "\(held)")
        #expect(held[0].union(held[1]) == Set(tenants), "\(held)")
        #expect(!held[0].isEmpty && !held[1].isEmpty)
        // The server's view: one socket per tenant, no tenant twice.
        let sockets = try control.get("/control/sockets?userId=\(user)")
        let list = (sockets["sockets"]?.arrayValue ?? sockets.arrayValue ?? []).compactMap { $0["tenantId"]?.stringValue }
        #expect(list.sorted() == tenants.sorted(), "\(list)")
        // Each shard its own spool.
        for i in 0..<2 {
            var isDir: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: "\(dir)/spool/shard-\(i)", isDirectory: &isDir) && isDir.boolValue)
        }
        // A reload keeps the shard: the same tenants, no session restarted.
        a.signal(SIGHUP)
        #expect(a.waitForStderr("configuration reloaded"), "\(a.stderr)")
        let reloaded = try #require(a.stderr.split(separator: "\n").first { $0.contains("configuration reloaded") })
        #expect(reloaded.contains("tenants=\(held[0].count) "), "\(reloaded)")
        #expect(reloaded.contains("sessions_restarted= ") || reloaded.contains("sessions_restarted=\"\""), "\(reloaded)")
        for p in [a, b] { p.signal(SIGTERM) }
        #expect(a.wait() == 0)
        #expect(b.wait() == 0)
        // `check --shard` tells which tenants a replica holds, as the daemons did.
        for (i, set) in held.enumerated() {
            let c = try BridgeProcess.run(["check", "--config", dir + "/rules.conf", "--shard", "\(i)/2"], environment: env)
            #expect(c.status == 0, "\(c.stderr)")
            let line = try #require(c.stdout.split(separator: "\n").first { $0.hasPrefix("shard \(i)/2: ") })
            #expect(Set(line.split(separator: ":").last!.split(separator: " ").map(String.init)) == set, "\(line)")
        }
        let bad = try BridgeProcess.run(["run", "--config", dir + "/rules.conf", "--shard", "auto/2"], environment: env)
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("does not end in -<ordinal>") || bad.stderr.contains("is not below 2"), "\(bad.stderr)")
    }
}

/// A datagram socket bound where `NOTIFY_SOCKET` points (a path, or `@name` for an abstract one),
/// standing in for systemd.
final class NotifySocket {
    let fd: Int32
    let path: String?

    init(_ name: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0; path = nil } else { path = name }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (path == nil ? 0 : 1))
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard fd >= 0, rc == 0 else { throw DevServerError.control("bind \(name): errno \(errno)") }
    }

    /// The next datagram, or nil after `timeoutMs`.
    func receive(timeoutMs: Int) -> String? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeoutMs)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }
}
