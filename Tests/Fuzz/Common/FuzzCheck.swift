// Shared by every fuzz target (compiled into each by Tests/Fuzz/run.sh).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reports a broken property and traps, so libFuzzer records the input as a crash.
///
/// `preconditionFailure` drops its message in `-O` builds, so the message is written to
/// stderr (unbuffered, unlike `print`) first.
func fuzzFailure(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fputs("fuzz check failed (\(file):\(line)): \(message())\n", stderr)
    preconditionFailure(message(), file: file, line: line)
}
