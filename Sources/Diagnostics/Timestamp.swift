#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timestamps in the one format used everywhere: ISO 8601 UTC with milliseconds and `Z`.
///
/// Every relayed event carries one, so formatting writes the 24 digits and separators straight
/// into a byte buffer (integer arithmetic only: no calendars, locales, or `String(Int)`
/// conversions, which cost ~8k instructions per event).
public enum Timestamp {
    /// The length of a formatted timestamp for years 0-9999: `2026-11-26T10:00:00.000Z`.
    public static let length = 24

    /// Now, e.g. `2026-11-26T10:00:00.000Z`.
    @Sendable public static func nowISO8601() -> String {
        let (seconds, milliseconds) = now()
        return iso8601(seconds: seconds, milliseconds: milliseconds)
    }

    /// Appends now (``nowISO8601()``'s text, without building a `String`) to `out`.
    public static func appendNowISO8601(into out: inout [UInt8]) {
        let (seconds, milliseconds) = now()
        appendISO8601(seconds: seconds, milliseconds: milliseconds, into: &out)
    }

    /// Milliseconds since the Unix epoch, now.
    public static func nowUnixMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    /// Formats a Unix time (UTC) without calendars or locales (days-from-civil arithmetic).
    public static func iso8601(seconds: Int, milliseconds: Int) -> String {
        guard let fields = Fields(seconds: seconds, milliseconds: milliseconds) else {
            return paddedISO8601(seconds: seconds, milliseconds: milliseconds)
        }
        return String(unsafeUninitializedCapacity: length) { fields.write(to: $0) }
    }

    /// Appends ``iso8601(seconds:milliseconds:)``'s text to `out`.
    public static func appendISO8601(seconds: Int, milliseconds: Int, into out: inout [UInt8]) {
        guard let fields = Fields(seconds: seconds, milliseconds: milliseconds) else {
            out.append(contentsOf: paddedISO8601(seconds: seconds, milliseconds: milliseconds).utf8)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
            let n = fields.write(to: buffer)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<n]))
        }
    }

    private static func now() -> (seconds: Int, milliseconds: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int(ts.tv_sec), Int(ts.tv_nsec / 1_000_000))
    }

    /// The calendar fields of a Unix time (UTC), when they fit the fixed-width form.
    private struct Fields {
        var year, month, day, secondOfDay, milliseconds: Int

        /// `nil` outside years 0-9999 or milliseconds 0-999 (the slow path pads those).
        init?(seconds: Int, milliseconds: Int) {
            let (y, m, d, s) = Timestamp.civil(seconds)
            guard (0...9999).contains(y), (0...999).contains(milliseconds) else { return nil }
            year = y; month = m; day = d; secondOfDay = s; self.milliseconds = milliseconds
        }

        /// Writes the 24 bytes to `out` (which holds at least ``Timestamp/length``); returns 24.
        func write(to out: UnsafeMutableBufferPointer<UInt8>) -> Int {
            @inline(__always) func digits(_ value: Int, _ width: Int, at index: Int) {
                var v = value
                var i = index + width - 1
                while i >= index {
                    out[i] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                    v /= 10
                    i -= 1
                }
            }
            digits(year, 4, at: 0); out[4] = UInt8(ascii: "-")
            digits(month, 2, at: 5); out[7] = UInt8(ascii: "-")
            digits(day, 2, at: 8); out[10] = UInt8(ascii: "T")
            digits(secondOfDay / 3600, 2, at: 11); out[13] = UInt8(ascii: ":")
            digits(secondOfDay / 60 % 60, 2, at: 14); out[16] = UInt8(ascii: ":")
            digits(secondOfDay % 60, 2, at: 17); out[19] = UInt8(ascii: ".")
            digits(milliseconds, 3, at: 20); out[23] = UInt8(ascii: "Z")
            return Timestamp.length
        }
    }

    /// Year, month, day and second of the day of a Unix time (Howard Hinnant's civil_from_days).
    private static func civil(_ seconds: Int) -> (year: Int, month: Int, day: Int, secondOfDay: Int) {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secOfDay = seconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d, secOfDay)
    }

    /// The general form, for years outside 0-9999 or odd millisecond values: each field padded
    /// with zeros to its width (wider values printed in full).
    private static func paddedISO8601(seconds: Int, milliseconds: Int) -> String {
        let (y, m, d, secOfDay) = civil(seconds)
        var out = ""
        func pad(_ v: Int, _ width: Int) {
            let s = String(v)
            if s.count < width { out.append(String(repeating: "0", count: width - s.count)) }
            out.append(s)
        }
        pad(y, 4); out.append("-"); pad(m, 2); out.append("-"); pad(d, 2); out.append("T")
        pad(secOfDay / 3600, 2); out.append(":"); pad(secOfDay / 60 % 60, 2); out.append(":"); pad(secOfDay % 60, 2)
        out.append("."); pad(milliseconds, 3); out.append("Z")
        return out
    }
}
