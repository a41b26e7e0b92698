import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tests only: a full disk (or a crash) without filling one. `fail(path)` returns the errno an
/// append to `path` fails with, or nil to let it through.
public final class SpoolWriteFault: @unchecked Sendable {
    public let fail: (String) -> Int32?
    public init(_ fail: @escaping (String) -> Int32?) { self.fail = fail }
}

private let spoolWriteFault = Mutex<SpoolWriteFault?>(nil)

/// A file the spool appends records to and reads them back from: `write(2)` appends, `pread(2)`
/// reads, `fsync(2)` on request. Owned by one spool on the loop thread.
public final class SpoolFile {
    /// The file's path.
    public let path: String
    private let fd: Int32
    /// Bytes in the file (appends go here).
    public private(set) var size: Int

    /// Opens (creating if needed) `path` for appending and reading, mode 0600.
    public init(path: String) throws(IOError) {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOError(errno: errno, function: "open(\(path))") }
        self.fd = fd
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw IOError(errno: e, function: "fstat(\(path))")
        }
        size = Int(st.st_size)
    }

    deinit { close(fd) }

    /// Appends `bytes` whole (retrying short writes and EINTR); returns the offset they start at.
    /// The offset comes from the file itself (O_APPEND), so it is right even if another process or
    /// object appended meanwhile (during a reload two spool objects may share a segment briefly).
    ///
    /// A write that fails part way (a full disk) is undone: the file is cut back to where it
    /// ended, so no torn record stays behind and the same bytes can be appended again later.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer) throws(IOError) -> Int {
        var off = 0
        while off < bytes.count {
            if let fault = SpoolFile.writeFault?.fail(path) {
                cutBack(wrote: off)
                throw IOError(errno: fault, function: "write(\(path))")
            }
            let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                cutBack(wrote: off)
                throw IOError(errno: e, function: "write(\(path))")
            }
            off += n
        }
        let end = Int(lseek(fd, 0, SEEK_CUR))
        size = end >= bytes.count ? end : size + bytes.count
        return size - bytes.count
    }

    /// Undoes the part of a failed append that reached the file.
    private func cutBack(wrote: Int) {
        guard wrote > 0 else { return }
        let end = Int(lseek(fd, 0, SEEK_END))
        if end >= wrote { _ = ftruncate(fd, off_t(end - wrote)) }
    }

    /// Tests only: when set, appends fail as it says.
    public static var writeFault: SpoolWriteFault? {
        get { spoolWriteFault.withLock { $0 } }
        set { spoolWriteFault.withLock { $0 = newValue } }
    }

    /// Appends `bytes` whole; returns the offset they start at.
    @discardableResult
    public func append(_ bytes: [UInt8]) throws(IOError) -> Int {
        let result: Result<Int, IOError> = bytes.withUnsafeBytes { buf in
            do throws(IOError) { return .success(try append(buf)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Reads `count` bytes at `offset` (fewer at the end of the file).
    public func read(offset: Int, count: Int) throws(IOError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(offset + got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(errno: errno, function: "pread(\(path))")
            }
            if n == 0 { break }
            got += n
        }
        if got < count { out.removeLast(count - got) }
        return out
    }

    /// Flushes the file to stable storage.
    public func sync() throws(IOError) {
        guard fsync(fd) == 0 else { throw IOError(errno: errno, function: "fsync(\(path))") }
    }

    /// Cuts the file to `length` bytes (drops a torn tail found at recovery).
    public func truncate(to length: Int) throws(IOError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw IOError(errno: errno, function: "ftruncate(\(path))") }
        size = length
    }
}

/// Directory and file operations the spool needs.
public enum SpoolDirectory {
    /// Creates `path` and its parents (mode 0700); existing directories are fine.
    public static func create(_ path: String) throws(IOError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o700) != 0 && errno != EEXIST {
                throw IOError(errno: errno, function: "mkdir(\(partial))")
            }
        }
    }

    /// Whether `path` exists.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// The size of the file at `path`, or nil when it cannot be read.
    public static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Bytes available to an unprivileged writer on the file system of `path` (nil when unknown).
    public static func freeBytes(_ path: String) -> Int? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return Int(st.f_bavail) * Int(st.f_frsize)
    }

    /// Removes a file; a missing one is fine.
    public static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Renames atomically.
    public static func rename(_ from: String, to: String) throws(IOError) {
        guard Glibc.rename(from, to) == 0 else { throw IOError(errno: errno, function: "rename(\(from))") }
    }

    /// Whether the directory can be written now (for readiness): creates and removes a probe file.
    public static func isWritable(_ path: String) -> Bool {
        let probe = path + "/.probe"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        close(fd)
        unlink(probe)
        return true
    }
}

/// An exclusive lock on a spool directory (`flock` on `<dir>/.lock`), held by the daemon for its
/// lifetime so that no second daemon, and no `mojo-bridge spool retry|drop`, writes the same spool.
public final class SpoolLock {
    private let fd: Int32

    /// Takes the lock without waiting; nil (with the reason) when another process holds it.
    public static func acquire(directory: String) -> Result<SpoolLock, IOError> {
        do { try SpoolDirectory.create(directory) } catch { return .failure(error) }
        let fd = open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failure(IOError(errno: errno, function: "open(\(directory)/.lock)")) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            close(fd)
            return .failure(IOError(errno: e, function: "flock(\(directory)/.lock)"))
        }
        return .success(SpoolLock(fd: fd))
    }

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }
}
