import Transport
#if canImport(Glibc)
import Glibc
#endif

/// The small durable files of an email sink, in `<spool dir>/.mail/`: the IMAP cursor
/// (`<sink>.imap`: UIDVALIDITY and the last UID handled) and the Message-IDs already posted
/// (`<sink>.seen`, the last 10,000). Written with write-to-temporary, fsync, rename.
public struct EmailStateFiles {
    public let directory: String
    public let sink: String
    /// How many Message-IDs are remembered.
    public static let seenLimit = 10_000

    public init(spoolDirectory: String, sink: String) {
        directory = spoolDirectory + "/.mail"
        self.sink = sink
    }

    /// The IMAP cursor, or nil when none was saved (or the file is unreadable).
    public func loadCursor() -> (validity: UInt64, lastUID: UInt64)? {
        guard case .success(let bytes) = FileReader.read(path: "\(directory)/\(sink).imap", maxBytes: 4096) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, let v = UInt64(parts[0]), let u = UInt64(parts[1]) else { return nil }
        return (v, u)
    }

    /// Saves the cursor durably; false when it could not be written.
    @discardableResult
    public func saveCursor(validity: UInt64, lastUID: UInt64) -> Bool {
        write("\(sink).imap", Array("\(validity) \(lastUID)\n".utf8))
    }

    /// The remembered Message-IDs, oldest first.
    public func loadSeen() -> [String] {
        guard case .success(let bytes) = FileReader.read(path: "\(directory)/\(sink).seen", maxBytes: 8 << 20) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).suffix(Self.seenLimit)
    }

    /// Saves the Message-IDs (the last `seenLimit`).
    @discardableResult
    public func saveSeen(_ ids: [String]) -> Bool {
        var bytes: [UInt8] = []
        for id in ids.suffix(Self.seenLimit) {
            bytes.append(contentsOf: id.utf8.filter { $0 != 10 && $0 != 13 })
            bytes.append(10)
        }
        return write("\(sink).seen", bytes)
    }

    private func write(_ name: String, _ bytes: [UInt8]) -> Bool {
        _ = mkdir(directory, 0o700)
        let path = "\(directory)/\(name)"
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                return false
            }
            offset += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        return synced && rename(temporary, path) == 0
    }
}

/// Message-IDs already posted, bounded, with their file.
///
/// The daemon's IMAP poller and any number of `mojo-bridge ingest-mail` processes may share one
/// sink's file: every insert takes an exclusive `flock(2)` on `<sink>.seen.lock`, reads the file
/// again, adds the id and writes it back (nobody's ids are overwritten), and `contains` reads the
/// file again when another process replaced it since. Two copies of one mail handled at the very
/// same moment by two processes can still both be posted (the check and the insert are not one
/// step, as a post takes a round trip to MOJO); an MTA delivers one copy at a time.
public final class EmailSeenSet {
    private var order: [String]
    private var set: Set<String>
    private let files: EmailStateFiles?
    /// The file as last read (inode, size, modification time): another writer replaces it.
    private var identity: [Int] = []

    /// The set loaded from `files` (nil: in memory only).
    public init(files: EmailStateFiles?) {
        self.files = files
        order = []
        set = []
        reload()
    }

    /// Whether `id` was posted before (by this process or another sharing the file).
    public func contains(_ id: String) -> Bool {
        if files != nil && Self.identity(of: path) != identity { reload() }
        return set.contains(id)
    }

    /// Records `id` and saves the set, merged with what other processes saved meanwhile.
    public func insert(_ id: String) {
        guard let files else {
            add(id)
            return
        }
        _ = mkdir(files.directory, 0o700)
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if lock >= 0 { while flock(lock, LOCK_EX) != 0 && errno == EINTR {} }
        defer { if lock >= 0 { close(lock) } }
        reload()
        guard add(id) else { return }
        files.saveSeen(order)
        identity = Self.identity(of: path)
    }

    private var path: String { files.map { "\($0.directory)/\($0.sink).seen" } ?? "" }

    @discardableResult
    private func add(_ id: String) -> Bool {
        guard set.insert(id).inserted else { return false }
        order.append(id)
        if order.count > EmailStateFiles.seenLimit {
            let drop = order.count - EmailStateFiles.seenLimit
            for old in order.prefix(drop) { set.remove(old) }
            order.removeFirst(drop)
        }
        return true
    }

    private func reload() {
        guard let files else { return }
        identity = Self.identity(of: path)
        order = files.loadSeen()
        set = Set(order)
    }

    private static func identity(of path: String) -> [Int] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [] }
        return [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
    }
}
