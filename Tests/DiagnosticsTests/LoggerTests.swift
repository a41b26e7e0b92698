import Testing
import Synchronization
@testable import Diagnostics

/// Records lines instead of writing them.
final class RecordingSink: LogSink {
    let lines = Mutex<[String]>([])
    func write(line: [UInt8]) { lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) } }
}

@Test func logfmtQuotesAndRedacts() {
    let sink = RecordingSink()
    let log = Logger(level: .info, sink: sink, clock: { "T" }).with("tenant", "org_x")
    log.info("connected to server", [("token", "eyJhbGciOi.secret"), ("note", "a \"b\"\nc")])
    log.debug("hidden")
    let lines = sink.lines.withLock { $0 }
    #expect(lines == ["ts=T level=info msg=\"connected to server\" tenant=org_x token=[redacted] note=\"a \\\"b\\\"\\nc\"\n"])
}

@Test func jsonFormatEscapes() {
    let sink = RecordingSink()
    let log = Logger(level: .debug, format: .json, sink: sink, clock: { "T" })
    log.warn("x\u{1}y", [("webhook_secret", "whsec_abc"), ("k", "v")])
    #expect(sink.lines.withLock { $0 } == ["{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"x\\u0001y\",\"webhook_secret\":\"[redacted]\",\"k\":\"v\"}\n"])
}

@Test func levelsParseAndOrder() {
    #expect(LogLevel(name: "WARNING") == .warn)
    #expect(LogLevel(name: "loud") == nil)
    #expect(LogLevel.debug < LogLevel.error)
}

@Test(arguments: [
    (0, 0, "1970-01-01T00:00:00.000Z"),
    (951_782_400, 5, "2000-02-29T00:00:00.005Z"),
    (1_614_265_330, 999, "2021-02-25T15:02:10.999Z"),
    (4_102_444_799, 123, "2099-12-31T23:59:59.123Z"),
    (-1, 0, "1969-12-31T23:59:59.000Z"),
])
func iso8601(seconds: Int, ms: Int, expected: String) {
    #expect(Timestamp.iso8601(seconds: seconds, milliseconds: ms) == expected)
    var out: [UInt8] = [0x2A]
    Timestamp.appendISO8601(seconds: seconds, milliseconds: ms, into: &out)
    #expect(out == [0x2A] + Array(expected.utf8))
}

@Test func iso8601OutsideTheFixedWidthForm() {
    // Years past 9999 and odd millisecond values are padded, not cut.
    #expect(Timestamp.iso8601(seconds: 253_402_300_800, milliseconds: 0) == "10000-01-01T00:00:00.000Z")
    #expect(Timestamp.iso8601(seconds: 0, milliseconds: 1234) == "1970-01-01T00:00:00.1234Z")
    let now = Timestamp.nowISO8601()
    #expect(now.utf8.count == Timestamp.length && now.hasSuffix("Z"))
}
