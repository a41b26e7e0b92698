import Foundation
import JSON
import TestSupport

/// A `mojo-bridge run` started by a test with a config written for it, against the shared dev server.
final class Daemon {
    let dir: String
    let configPath: String
    let process: BridgeProcess
    let world: DemoWorld
    let token: String

    /// Writes `bridge.conf` (server, the demo tenant with a fresh token, debug logs, then `rules`)
    /// and starts the daemon; waits until every tenant is connected.
    init(world: DemoWorld = .shared, rules: String, extraTenants: String = "", connectedTenants: Int = 1,
         arguments: [String] = [], environment: [String: String] = [:], bareConfigName: Bool = false,
         prepare: (_ dir: String) throws -> Void = { _ in }) throws {
        self.world = world
        dir = try RepoPaths.temporaryDirectory("mojo-run")
        configPath = dir + "/bridge.conf"
        try prepare(dir)
        token = try world.tokenFile()
        try Self.header(world: world, token: token, extraTenants: extraTenants, spool: dir + "/spool").appending(rules)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        // `bareConfigName`: run in the config's directory with `--config bridge.conf`.
        process = try BridgeProcess(["run", "--config", bareConfigName ? "bridge.conf" : configPath, "--log-level", "debug"] + arguments,
                                    environment: environment, directory: bareConfigName ? dir : nil)
        for _ in 0..<connectedTenants {
            guard process.waitForStderr("msg=connected", timeout: 15) else {
                throw DevServerError.control("daemon did not connect:\n\(process.stderr)")
            }
        }
        try world.waitForSocket(of: DemoWorld.bridgeUser)
    }

    static func header(world: DemoWorld, token: String, extraTenants: String, spool: String) -> String {
        """
        server { url = "\(world.url)"  transport = websocket }
        tenant org_demo { token = file:\(token) }
        \(extraTenants)
        spool { dir = "\(spool)" }
        log { level = debug }

        """
    }

    /// Replaces the rules (the header stays) and sends SIGHUP; waits for the reload's log line.
    func reload(rules: String, expect: String = "configuration reloaded", extraTenants: String = "") throws -> Bool {
        try Self.header(world: world, token: token, extraTenants: extraTenants, spool: dir + "/spool").appending(rules)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let before = process.stderr.components(separatedBy: expect).count - 1
        process.signal(SIGHUP)
        return process.waitForStderr(expect, occurrences: before + 1)
    }

    /// SIGTERM and the exit status.
    func stop() -> Int32 {
        process.signal(SIGTERM)
        return process.wait(timeout: 20)
    }

    deinit {
        _ = process.wait(timeout: 0.1)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Shell snippets for test sinks.
enum Scripts {
    /// Writes an executable script into `dir` and returns its path.
    static func write(_ body: String, named name: String, in dir: String) throws -> String {
        let path = dir + "/" + name
        try ("#!/bin/sh\nset -u\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    static var autoresponder: String { RepoPaths.root + "/Bridges/autoresponder.sh" }
}
