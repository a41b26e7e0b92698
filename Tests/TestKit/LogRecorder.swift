import Diagnostics
import Synchronization

/// A `LogSink` that keeps the lines (for "one line per attempt" and "says why" assertions).
public final class LogRecorder: LogSink {
    private let stored = Mutex<[String]>([])

    public init() {}

    public func write(line: [UInt8]) {
        let text = String(decoding: line, as: UTF8.self)
        stored.withLock { $0.append(text) }
    }

    /// Every line so far, without its newline.
    public var lines: [String] { stored.withLock { $0.map { String($0.dropLast()) } } }

    /// The lines containing `text`.
    public func lines(containing text: String) -> [String] { lines.filter { $0.contains(text) } }

    /// A logger writing here at `level`.
    public func logger(level: LogLevel = .debug) -> Logger { Logger(level: level, sink: self) }
}

extension Logger {
    /// A logger that drops everything (tests that assert on outcomes, not lines).
    public static var quiet: Logger { Logger(level: .error, sink: DroppingSink()) }
}

private struct DroppingSink: LogSink {
    func write(line: [UInt8]) {}
}
