#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timestamps in the one format used everywhere: ISO 8601 UTC with milliseconds and `Z`.
public enum Timestamp {
    /// Now, e.g. `2026-11-26T10:00:00.000Z`.
    @Sendable public static func nowISO8601() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return iso8601(seconds: Int(ts.tv_sec), milliseconds: Int(ts.tv_nsec / 1_000_000))
    }

    /// Milliseconds since the Unix epoch, now.
    public static func nowUnixMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    /// Formats a Unix time (UTC) without calendars or locales (days-from-civil arithmetic).
    public static func iso8601(seconds: Int, milliseconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secOfDay = seconds - days * 86400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        var out = ""
        out.reserveCapacity(24)
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
