#if canImport(Glibc)
import Glibc
#endif

/// Where rendered log lines go. One requirement, so tests can record lines.
public protocol LogSink: Sendable {
    /// Writes one complete line (the newline included).
    func write(line: [UInt8])
}

/// Writes lines to standard error with one `write(2)` each, so lines from several threads never interleave.
public struct StandardErrorSink: LogSink {
    /// Creates the sink.
    public init() {}

    public func write(line: [UInt8]) {
        line.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(2, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                off += n
            }
        }
    }
}

/// A structured logger: a level, a format, and fields carried into every line (tenant, route, ...).
///
/// Values of fields whose key names a secret (`token`, `secret`, `password`, `authorization`, ...) are
/// replaced by `[redacted]`, so a careless call cannot leak a credential.
public struct Logger: Sendable {
    /// Lines below this level are dropped before rendering.
    public var level: LogLevel
    /// The rendering.
    public var format: LogFormat
    /// Fields added to every line, in order.
    public var metadata: [(String, String)]
    private let sink: any LogSink
    private let clock: @Sendable () -> String

    /// Creates a logger writing to `sink` (standard error by default).
    public init(level: LogLevel = .info, format: LogFormat = .logfmt, sink: any LogSink = StandardErrorSink(),
                clock: @escaping @Sendable () -> String = Timestamp.nowISO8601) {
        self.level = level
        self.format = format
        self.metadata = []
        self.sink = sink
        self.clock = clock
    }

    /// A copy that adds `key=value` to every line.
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy.metadata.append((key, value))
        return copy
    }

    /// Whether a line at `level` would be written: lets callers skip building expensive fields.
    @inlinable public func enabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// Logs at debug level.
    public func debug(_ msg: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        log(.debug, msg(), fields())
    }
    /// Logs at info level.
    public func info(_ msg: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        log(.info, msg(), fields())
    }
    /// Logs at warn level.
    public func warn(_ msg: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        log(.warn, msg(), fields())
    }
    /// Logs at error level.
    public func error(_ msg: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        log(.error, msg(), fields())
    }

    /// Renders and writes one line when `level` is enabled.
    public func log(_ level: LogLevel, _ msg: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        guard enabled(level) else { return }
        var all: [(String, String)] = [("ts", clock()), ("level", level.name), ("msg", msg())]
        all.append(contentsOf: metadata)
        all.append(contentsOf: fields())
        var line: [UInt8] = []
        line.reserveCapacity(160)
        switch format {
        case .logfmt: LineRenderer.logfmt(all, into: &line)
        case .json: LineRenderer.json(all, into: &line)
        }
        line.append(0x0A)
        sink.write(line: line)
    }
}
