#if canImport(Glibc)
import Glibc
#endif

/// Small, bounded, synchronous file reads (token files, config files): fast local I/O.
public enum FileReader {
    /// The `function` of the error returned for a path that is not a regular file.
    public static let notRegularFile = "not a regular file"

    /// Reads at most `maxBytes` of `path`; a larger file is an error rather than a truncation.
    /// With `regularFileOnly`, a FIFO, device or directory is refused (function
    /// ``notRegularFile``) instead of read: the open does not block and `fstat` decides.
    public static func read(path: String, maxBytes: Int, regularFileOnly: Bool = false) -> Result<[UInt8], IOError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (regularFileOnly ? O_NONBLOCK : 0))
        guard fd >= 0 else { return .failure(IOError(errno: errno, function: "open")) }
        defer { close(fd) }
        if regularFileOnly {
            var info = stat()
            guard fstat(fd, &info) == 0 else { return .failure(IOError(errno: errno, function: "fstat")) }
            guard info.st_mode & S_IFMT == S_IFREG else {
                return .failure(IOError(errno: info.st_mode & S_IFMT == S_IFDIR ? EISDIR : EINVAL, function: notRegularFile))
            }
        }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(IOError(errno: errno, function: "read"))
            }
            if n == 0 { return .success(out) }
            out.append(contentsOf: buf[0..<n])
            if out.count > maxBytes { return .failure(IOError(errno: EFBIG, function: "read (over \(maxBytes) bytes)")) }
        }
    }
}

/// Directory listings (config includes).
public enum DirectoryReader {
    /// The entry names of `path`, without `.` and `..`.
    public static func list(path: String) -> Result<[String], IOError> {
        guard let dir = opendir(path) else { return .failure(IOError(errno: errno, function: "opendir")) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names.sorted())
    }
}
