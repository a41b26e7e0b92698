#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics of Prometheus client libraries, read from the kernel at
/// scrape time: CPU seconds, resident and virtual memory, open and maximum file descriptors,
/// start time.
public enum ProcessMetrics {
    /// Registers the process families on `registry` (callbacks; nothing is read until a scrape).
    public static func register(on registry: MetricsRegistry) {
        try? registry.callbackCounter("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds") {
            var usage = rusage()
            guard getrusage(Int32(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
            return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        }
        try? registry.callbackGauge("process_resident_memory_bytes", help: "Resident memory size in bytes") {
            statm().map { Double($0.resident) * Double(sysconf(Int32(_SC_PAGESIZE))) } ?? 0
        }
        try? registry.callbackGauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes") {
            statm().map { Double($0.size) * Double(sysconf(Int32(_SC_PAGESIZE))) } ?? 0
        }
        try? registry.callbackGauge("process_open_fds", help: "Number of open file descriptors") { Double(openDescriptors()) }
        try? registry.callbackGauge("process_max_fds", help: "Maximum number of open file descriptors") {
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
            return Double(limit.rlim_cur)
        }
        let start = startTimeSeconds()
        try? registry.callbackGauge("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds") { start }
    }

    /// `/proc/self/statm`: total program size and resident set, in pages.
    static func statm() -> (size: Int, resident: Int)? {
        let fields = read("/proc/self/statm").split(separator: " ")
        guard fields.count >= 2, let size = Int(fields[0]), let resident = Int(fields[1]) else { return nil }
        return (size, resident)
    }

    /// Entries of `/proc/self/fd`, minus the directory handle used to count them.
    static func openDescriptors() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { $0.prefix { $0 != 0 } }
            if !name.elementsEqual(".".utf8), !name.elementsEqual("..".utf8) { count += 1 }
        }
        return max(0, count - 1)
    }

    /// Boot time (`/proc/stat` btime) plus the process's start in clock ticks (`/proc/self/stat`
    /// field 22); the current time if either cannot be read.
    static func startTimeSeconds() -> Double {
        let now = Double(Timestamp.nowUnixMilliseconds()) / 1000
        let stat = read("/proc/self/stat")
        // The command name (field 2) may hold spaces: fields are counted after its closing paren.
        guard let paren = stat.lastIndex(of: ")") else { return now }
        let rest = stat[stat.index(after: paren)...].split(separator: " ")
        // rest[0] is field 3 (state), so field 22 is rest[19].
        guard rest.count > 19, let ticks = Double(rest[19]) else { return now }
        guard let line = read("/proc/stat").split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst(6)) else { return now }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func read(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count < 1 << 16 {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
