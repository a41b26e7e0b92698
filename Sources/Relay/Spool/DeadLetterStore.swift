import Diagnostics
import Transport

/// The dead letters of one sink, apart from its queue: `<spool dir>/<sink>/dead.log` holds each
/// whole (entry, payload, attempts, last error), so a dead letter keeps no segment of the queue
/// alive and costs no memory. A revived or dropped one is marked gone by a `done` record; the file
/// is rewritten (to a temporary file, then renamed) once most of it is gone.
final class DeadLetterStore {
    /// A dead letter; `key` names it in this store (its offset in the file).
    struct Letter {
        var key: Int
        var entry: SpoolEntry
        var attempts: UInt32
        var reason: String
        var payload: [UInt8]
    }

    let path: String?
    private let log: Logger
    private var file: SpoolFile?
    /// Memory-only store (`mojo-bridge pipe`).
    private var memory: [Letter] = []
    private var nextMemoryKey = 1
    /// Keys marked gone since the file was last rewritten.
    private var removed: Set<Int> = []
    private(set) var count = 0

    init(memoryLog log: Logger) {
        path = nil
        self.log = log
    }

    init(directory: String, log: Logger) throws(IOError) {
        let path = directory + "/dead.log"
        self.path = path
        self.log = log
        SpoolDirectory.remove(path + ".tmp")
        guard SpoolDirectory.exists(path) else { return }
        let file = try SpoolFile(path: path)
        self.file = file
        var scanner = SpoolScanner(file: file, from: 0)
        var letters = 0
        while let (at, record, _) = try scanner.next() {
            switch record {
            case .dead: letters += 1
            case .done(let key): if key < at { removed.insert(key) }
            default: break
            }
        }
        if scanner.tornTail { try file.truncate(to: scanner.goodEnd) }
        count = max(0, letters - removed.count)
    }

    /// Keeps a dead letter (written at once: it is about to leave the queue).
    func add(_ entry: SpoolEntry, payload: [UInt8], attempts: UInt32, reason: String) throws(IOError) {
        guard let path else {
            memory.append(Letter(key: nextMemoryKey, entry: entry, attempts: attempts, reason: reason, payload: payload))
            nextMemoryKey += 1
            count += 1
            return
        }
        if file == nil { file = try SpoolFile(path: path) }
        var bytes: [UInt8] = []
        SpoolRecord.dead(.init(entry: entry, attempts: attempts, reason: reason, payload: payload)).encode(into: &bytes)
        try file?.append(bytes)
        count += 1
    }

    /// Every dead letter, oldest first, until `body` returns false.
    func forEach(_ body: (Letter) -> Bool) throws(IOError) {
        guard path != nil else {
            for l in memory where !body(l) { return }
            return
        }
        guard let file else { return }
        var scanner = SpoolScanner(file: file, from: 0)
        while let (at, record, _) = try scanner.next() {
            guard case .dead(let d) = record, !removed.contains(at) else { continue }
            if !body(Letter(key: at, entry: d.entry, attempts: d.attempts, reason: d.reason, payload: d.payload)) { return }
        }
    }

    /// The dead letters, oldest first.
    func all() throws(IOError) -> [Letter] {
        var out: [Letter] = []
        try forEach { out.append($0); return true }
        return out
    }

    /// Marks dead letters gone (revived or dropped).
    func remove(_ keys: [Int]) throws(IOError) {
        guard !keys.isEmpty else { return }
        guard path != nil else {
            let gone = Set(keys)
            memory.removeAll { gone.contains($0.key) }
            count = memory.count
            return
        }
        var bytes: [UInt8] = []
        for k in keys where !removed.contains(k) { SpoolRecord.done(position: k).encode(into: &bytes) }
        try file?.append(bytes)
        for k in keys where removed.insert(k).inserted { count -= 1 }
        if count == 0 || (removed.count > 1024 && removed.count > count) { try rewrite() }
    }

    /// Rewrites the file with only what is left: written to `dead.log.tmp`, synced, renamed.
    private func rewrite() throws(IOError) {
        guard let path else { return }
        let tmp = path + ".tmp"
        SpoolDirectory.remove(tmp)
        let out = try SpoolFile(path: tmp)
        var bytes: [UInt8] = []
        var failure: IOError?
        try forEach { l in
            SpoolRecord.dead(.init(entry: l.entry, attempts: l.attempts, reason: l.reason, payload: l.payload)).encode(into: &bytes)
            if bytes.count >= 1 << 20 {
                do throws(IOError) { try out.append(bytes) } catch { failure = error; return false }
                bytes.removeAll(keepingCapacity: true)
            }
            return true
        }
        if let failure { SpoolDirectory.remove(tmp); throw failure }
        do {
            if !bytes.isEmpty { try out.append(bytes) }
            try out.sync()
            try SpoolDirectory.rename(tmp, to: path)
        } catch {
            SpoolDirectory.remove(tmp)
            throw error
        }
        file = out
        removed.removeAll()
    }

    /// Replaces the whole store with `letters` (migration of a version 1 spool).
    func replace(with letters: [Letter]) throws(IOError) {
        guard let path else { return }
        let tmp = path + ".tmp"
        SpoolDirectory.remove(tmp)
        let out = try SpoolFile(path: tmp)
        var bytes: [UInt8] = []
        for l in letters {
            SpoolRecord.dead(.init(entry: l.entry, attempts: l.attempts, reason: l.reason, payload: l.payload)).encode(into: &bytes)
        }
        try out.append(bytes)
        try out.sync()
        try SpoolDirectory.rename(tmp, to: path)
        file = out
        removed.removeAll()
        count = letters.count
    }

    /// Bytes on disk.
    var bytes: Int { file?.size ?? memory.reduce(0) { $0 + $1.payload.count } }
}
