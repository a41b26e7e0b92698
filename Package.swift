// swift-tools-version:6.0
// mojo-bridge: a Socket.IO bridge daemon for MOJO messaging. Toolchain only: no package dependencies.
import PackageDescription

let package = Package(
    name: "mojo-bridge",
    products: [
        .executable(name: "mojo-bridge", targets: ["MojoBridgeCLI"]),
    ],
    targets: [
        // C libraries, reached only through these system-library targets and only by I/O modules.
        // CCurl gives only libcurl's headers (apt: libcurl4-openssl-dev, in the default include
        // path); the library is opened with dlopen on first use. No pkgConfig: it would add -lcurl.
        .systemLibrary(name: "CCurl"),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSystem"),

        // Pure codecs and state machines: no syscalls, no C.
        .target(name: "JSON"),
        .target(name: "Diagnostics"),
        .target(name: "WebSocket"),
        .target(name: "SocketIO", dependencies: ["JSON"]),
        .target(name: "Rules", dependencies: ["JSON"]),
        .target(name: "HTTP"),
        // Mail: MIME out and in, reply addresses, reply trimming (pure; the MAC is passed in).
        .target(name: "Mail"),

        // The only code that makes syscalls.
        .target(name: "Transport", dependencies: ["COpenSSL", "CSystem"]),
        .target(name: "Curl", dependencies: ["CCurl", "Transport", "Diagnostics"]),
        // HMAC-SHA256, SHA-256, randomness (OpenSSL) and Standard Webhooks signatures.
        .target(name: "Crypto", dependencies: ["COpenSSL", "WebSocket"]),
        // The admin HTTP server: health, readiness, metrics, inbound commands.
        .target(name: "Admin", dependencies: ["HTTP", "Transport", "Diagnostics", "JSON"]),

        // MOJO typed events, token providers and the per-tenant session.
        .target(name: "Mojo", dependencies: ["JSON", "WebSocket", "SocketIO", "Transport", "Curl", "Diagnostics"]),

        // The router: rules -> sinks and sinks -> MOJO, echo suppression, mirroring; and the sinks.
        .target(name: "Relay", dependencies: ["Mojo", "Rules", "Transport", "Curl", "Crypto", "Admin", "HTTP", "JSON", "Diagnostics", "CSystem", "Mail"]),

        .executableTarget(name: "MojoBridgeCLI", dependencies: ["Relay", "Rules", "Mojo", "Admin", "Curl", "Transport", "JSON", "Diagnostics", "Mail"]),

        .target(name: "TestSupport", dependencies: ["JSON"], path: "Tests/TestSupport"),
        // The deterministic test kit: a virtual clock, scripted pipe children, a scripted MOJO server.
        .target(name: "TestKit", dependencies: ["Transport", "SocketIO", "JSON", "Mojo", "Relay", "Diagnostics"], path: "Tests/TestKit"),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "TestSupport"]),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket", "TestSupport"]),
        .testTarget(name: "SocketIOTests", dependencies: ["SocketIO", "JSON", "TestSupport"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "TestSupport"]),
        .testTarget(name: "CurlTests", dependencies: ["Curl", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["MojoBridgeCLI", "TestSupport", "JSON"]),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "JSON"]),
        .testTarget(name: "RelayTests", dependencies: ["Relay", "Rules", "Mojo", "TestSupport", "TestKit"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "TestSupport"]),
        .testTarget(name: "AdminTests", dependencies: ["Admin", "HTTP", "Transport", "TestSupport"]),
        .testTarget(name: "MojoTests", dependencies: ["Mojo", "TestSupport", "TestKit"]),
        .testTarget(name: "MailTests", dependencies: ["Mail"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

// The daemon is one thread round an epoll loop and uses no Swift concurrency (async, actors, Task):
// built without the implicit `_Concurrency` import, it neither links nor maps libswift_Concurrency
// and libdispatch (~0.75 MiB resident). Code that needs them can `import _Concurrency`. Tests
// (Swift Testing) keep the import.
for target in package.targets where [.regular, .executable].contains(target.type) && target.path?.hasPrefix("Tests/") != true {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Xfrontend", "-disable-implicit-concurrency-module-import"])]
}
