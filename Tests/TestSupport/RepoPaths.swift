import Foundation

/// Paths inside the checkout, found from this file's location so tests run from any directory.
public enum RepoPaths {
    /// The checkout's root directory.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }   // Tests/TestSupport/RepoPaths.swift
        return url.path
    }()

    /// The virtualenv's Python, created by `.ci/setup`.
    public static var python: String { root + "/.venv/bin/python" }

    /// The dev server's entry point.
    public static var devServer: String { root + "/Tests/DevServer/devserver.py" }

    /// The built `mojo-bridge` executable of the current build configuration.
    public static var bridgeExecutable: String {
        let debug = root + "/.build/debug/mojo-bridge"
        if let env = ProcessInfo.processInfo.environment["MOJO_BRIDGE_BIN"] { return env }
        return debug
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory(_ prefix: String = "mojo-test") throws -> String {
        var template = Array((NSTemporaryDirectory() + "/\(prefix).XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw POSIXError(.EIO) }
        return String(cString: p)
    }
}
