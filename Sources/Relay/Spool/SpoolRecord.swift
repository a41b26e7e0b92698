import CSystem
import Transport

/// What is spooled with every event besides its payload: who it is, where it goes, and the
/// attributes its sink attached (small key/value strings, e.g. an email subject).
struct SpoolEntry: Equatable {
    var id: String
    var tenant: String
    var conversation: String
    var route: String
    var type: String
    var hops: UInt32
    var enqueuedAtMs: Int64
    /// Key/value pairs, flattened (`[k0, v0, k1, v1, ...]`).
    var attributes: [String] = []
}

/// Where a record starts: its segment number and byte offset (offsets below 64 GiB).
enum SpoolPosition {
    static let offsetBits = 36
    static func make(segment: Int, offset: Int) -> Int { segment << offsetBits | offset }
    static func segment(_ p: Int) -> Int { p >> offsetBits }
    static func offset(_ p: Int) -> Int { p & ((1 << offsetBits) - 1) }
}

/// One record of a spool segment file (or of the dead-letter file).
///
/// Layout (little endian): magic `MJS2` (4 bytes), length of what follows the checksum (u32),
/// CRC-32C of those bytes (u32), then the kind (u8) and its fields. Strings are a u16 length and
/// UTF-8 bytes; enqueue and dead records end with the payload. The magic lets recovery find the
/// next record after a corrupt one. Records refer to an event by its position (segment and
/// offset of its enqueue record), not by its id.
///
/// Version 1 (`MJS1`: no attributes, state records by event id, no checkpoints) is still read:
/// a spool written by an older daemon is migrated at start-up (`SinkSpool+Recovery.swift`).
enum SpoolRecord: Equatable {
    struct Enqueue: Equatable {
        var entry: SpoolEntry
        var payload: [UInt8]
    }

    /// What a checkpoint says of one event it lists: its retry state.
    struct CheckpointItem: Equatable {
        var position: Int
        var attempts: UInt32
        var nextAtMs: Int64
        var reason: String
    }

    /// Every enqueue record before `cursor` is resolved except the `items` listed; `behind` live
    /// enqueue records lie between `cursor` and the checkpoint itself.
    struct Checkpoint: Equatable {
        var cursor: Int
        var behind: Int
        var items: [CheckpointItem]
    }

    /// A dead letter, whole (the dead-letter file holds these).
    struct Dead: Equatable {
        var entry: SpoolEntry
        var attempts: UInt32
        var reason: String
        var payload: [UInt8]
    }

    case enqueue(Enqueue)
    /// Delivered, dropped, or moved to the dead letters: the event at `position` leaves.
    case done(position: Int)
    /// A failed attempt: when to try again.
    case retry(position: Int, attempts: UInt32, nextAtMs: Int64, reason: String)
    case checkpoint(Checkpoint)
    case dead(Dead)
    /// Version 1 state records, by event id (read only).
    case legacyDone(id: String)
    case legacyRetry(id: String, attempts: UInt32, nextAtMs: Int64, reason: String)
    case legacyDead(id: String, reason: String)
    case legacyRevive(id: String)

    static let magic: [UInt8] = Array("MJS2".utf8)
    static let legacyMagic: [UInt8] = Array("MJS1".utf8)
    static let headerSize = 12
    /// Largest record accepted back (a payload of 16 MiB plus fields).
    static let maxBodySize = 17 << 20

    /// Appends the record (header and body) to `out`, with no intermediate buffers.
    func encode(into out: inout [UInt8]) {
        if isLegacy { return encodeLegacy(into: &out) }
        let header = Self.beginRecord(&out, Self.magic)
        switch self {
        case .enqueue(let e):
            Self.encodeEnqueueBody(e.entry, payload: e.payload, into: &out)
        case .done(let p):
            out.append(2); Self.put(UInt64(p), 8, &out)
        case .retry(let p, let attempts, let next, let reason):
            out.append(3); Self.put(UInt64(p), 8, &out)
            Self.put(UInt64(attempts), 4, &out)
            Self.put(UInt64(bitPattern: next), 8, &out)
            Self.put(reason, &out)
        case .checkpoint(let c):
            out.append(6)
            Self.put(UInt64(c.cursor), 8, &out)
            Self.put(UInt64(c.behind), 8, &out)
            Self.put(UInt64(c.items.count), 4, &out)
            for i in c.items {
                Self.put(UInt64(i.position), 8, &out)
                Self.put(UInt64(i.attempts), 4, &out)
                Self.put(UInt64(bitPattern: i.nextAtMs), 8, &out)
                Self.put(i.reason, &out)
            }
        case .dead(let d):
            out.append(7)
            Self.put(UInt64(d.attempts), 4, &out)
            Self.put(d.reason, &out)
            Self.encodeEntry(d.entry, into: &out)
            out.append(contentsOf: d.payload)
        default:
            break
        }
        Self.endRecord(header, &out)
    }

    private var isLegacy: Bool {
        switch self {
        case .legacyDone, .legacyRetry, .legacyDead, .legacyRevive: true
        default: false
        }
    }

    /// The version 1 encoding (tests: spools written by an older daemon).
    func encodeLegacy(into out: inout [UInt8]) {
        let header = Self.beginRecord(&out, Self.legacyMagic)
        switch self {
        case .enqueue(let e):
            out.append(1)
            Self.put(e.entry.id, &out); Self.put(e.entry.tenant, &out); Self.put(e.entry.conversation, &out)
            Self.put(e.entry.route, &out); Self.put(e.entry.type, &out)
            Self.put(UInt64(e.entry.hops), 4, &out)
            Self.put(UInt64(bitPattern: e.entry.enqueuedAtMs), 8, &out)
            out.append(contentsOf: e.payload)
        case .legacyDone(let id):
            out.append(2); Self.put(id, &out)
        case .legacyRetry(let id, let attempts, let next, let reason):
            out.append(3); Self.put(id, &out)
            Self.put(UInt64(attempts), 4, &out)
            Self.put(UInt64(bitPattern: next), 8, &out)
            Self.put(reason, &out)
        case .legacyDead(let id, let reason):
            out.append(4); Self.put(id, &out); Self.put(reason, &out)
        case .legacyRevive(let id):
            out.append(5); Self.put(id, &out)
        default:
            break
        }
        Self.endRecord(header, &out)
    }

    /// Appends an enqueue record (the spool's hot path: no `Enqueue` value, no payload copy).
    static func encodeEnqueue(_ entry: SpoolEntry, payload: [UInt8], into out: inout [UInt8]) {
        let header = beginRecord(&out, magic)
        encodeEnqueueBody(entry, payload: payload, into: &out)
        endRecord(header, &out)
    }

    /// The encoded size of an enqueue record.
    static func enqueueSize(_ entry: SpoolEntry, payloadCount: Int) -> Int {
        var n = headerSize + 1 + 4 + 8 + 2 + payloadCount
        for s in [entry.id, entry.tenant, entry.conversation, entry.route, entry.type] { n += 2 + min(s.utf8.count, 65_535) }
        for s in entry.attributes { n += 2 + min(s.utf8.count, 65_535) }
        return n
    }

    private static func encodeEnqueueBody(_ e: SpoolEntry, payload: [UInt8], into out: inout [UInt8]) {
        out.append(1)
        encodeEntry(e, into: &out)
        out.append(contentsOf: payload)
    }

    private static func encodeEntry(_ e: SpoolEntry, into out: inout [UInt8]) {
        put(e.id, &out); put(e.tenant, &out); put(e.conversation, &out); put(e.route, &out); put(e.type, &out)
        put(UInt64(e.hops), 4, &out)
        put(UInt64(bitPattern: e.enqueuedAtMs), 8, &out)
        let pairs = min(e.attributes.count / 2, 65_535)
        put(UInt64(pairs), 2, &out)
        for s in e.attributes.prefix(pairs * 2) { put(s, &out) }
    }

    /// Writes the magic and room for the length and checksum; returns where the record starts.
    private static func beginRecord(_ out: inout [UInt8], _ magic: [UInt8]) -> Int {
        let at = out.count
        out.append(contentsOf: magic)
        out.append(contentsOf: repeatElement(0, count: 8))
        return at
    }

    /// Fills in the length and the CRC-32C of the body written since `beginRecord`.
    private static func endRecord(_ at: Int, _ out: inout [UInt8]) {
        let bodyAt = at + headerSize
        let length = UInt32(out.count - bodyAt)
        let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[bodyAt...])) }
        for i in 0..<4 {
            out[at + 4 + i] = UInt8(truncatingIfNeeded: length >> UInt32(8 * i))
            out[at + 8 + i] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * i))
        }
    }

    /// Decodes a record body (after the header); nil when malformed. `legacy`: a version 1 record.
    static func decode(body: ArraySlice<UInt8>, legacy: Bool = false) -> SpoolRecord? {
        var r = Reader(bytes: body)
        guard let kind = r.u8() else { return nil }
        if legacy { return decodeLegacy(kind, &r) }
        switch kind {
        case 1:
            guard let entry = entry(&r) else { return nil }
            return .enqueue(Enqueue(entry: entry, payload: Array(r.rest())))
        case 2:
            guard let p = r.uint(8), r.atEnd else { return nil }
            return .done(position: Int(truncatingIfNeeded: p))
        case 3:
            guard let p = r.uint(8), let attempts = r.uint(4), let next = r.uint(8), let reason = r.string(), r.atEnd else { return nil }
            return .retry(position: Int(truncatingIfNeeded: p), attempts: UInt32(attempts), nextAtMs: Int64(bitPattern: next), reason: reason)
        case 6:
            guard let cursor = r.uint(8), let behind = r.uint(8), let n = r.uint(4) else { return nil }
            var items: [CheckpointItem] = []
            for _ in 0..<n {
                guard let p = r.uint(8), let attempts = r.uint(4), let next = r.uint(8), let reason = r.string() else { return nil }
                items.append(CheckpointItem(position: Int(truncatingIfNeeded: p), attempts: UInt32(attempts),
                                            nextAtMs: Int64(bitPattern: next), reason: reason))
            }
            guard r.atEnd else { return nil }
            return .checkpoint(Checkpoint(cursor: Int(truncatingIfNeeded: cursor), behind: Int(truncatingIfNeeded: behind), items: items))
        case 7:
            guard let attempts = r.uint(4), let reason = r.string(), let entry = entry(&r) else { return nil }
            return .dead(Dead(entry: entry, attempts: UInt32(attempts), reason: reason, payload: Array(r.rest())))
        default:
            return nil
        }
    }

    private static func entry(_ r: inout Reader) -> SpoolEntry? {
        guard let id = r.string(), let tenant = r.string(), let conversation = r.string(), let route = r.string(),
              let type = r.string(), let hops = r.uint(4), let at = r.uint(8), let pairs = r.uint(2) else { return nil }
        var attributes: [String] = []
        for _ in 0..<(pairs * 2) {
            guard let s = r.string() else { return nil }
            attributes.append(s)
        }
        return SpoolEntry(id: id, tenant: tenant, conversation: conversation, route: route, type: type, hops: UInt32(hops),
                          enqueuedAtMs: Int64(bitPattern: at), attributes: attributes)
    }

    private static func decodeLegacy(_ kind: UInt8, _ r: inout Reader) -> SpoolRecord? {
        switch kind {
        case 1:
            guard let id = r.string(), let tenant = r.string(), let conversation = r.string(), let route = r.string(),
                  let type = r.string(), let hops = r.uint(4), let at = r.uint(8) else { return nil }
            return .enqueue(Enqueue(entry: SpoolEntry(id: id, tenant: tenant, conversation: conversation, route: route, type: type,
                                                      hops: UInt32(hops), enqueuedAtMs: Int64(bitPattern: at)),
                                    payload: Array(r.rest())))
        case 2:
            guard let id = r.string(), r.atEnd else { return nil }
            return .legacyDone(id: id)
        case 3:
            guard let id = r.string(), let attempts = r.uint(4), let next = r.uint(8), let reason = r.string(), r.atEnd else { return nil }
            return .legacyRetry(id: id, attempts: UInt32(attempts), nextAtMs: Int64(bitPattern: next), reason: reason)
        case 4:
            guard let id = r.string(), let reason = r.string(), r.atEnd else { return nil }
            return .legacyDead(id: id, reason: reason)
        case 5:
            guard let id = r.string(), r.atEnd else { return nil }
            return .legacyRevive(id: id)
        default:
            return nil
        }
    }

    private static func put(_ s: String, _ out: inout [UInt8]) {
        let n = s.utf8.count
        if n > 65_535 {
            put(65_535, 2, &out)
            out.append(contentsOf: s.utf8.prefix(65_535))
        } else {
            put(UInt64(n), 2, &out)
            out.append(contentsOf: s.utf8)
        }
    }

    private static func put(_ v: UInt64, _ width: Int, _ out: inout [UInt8]) {
        for i in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }

    struct Reader {
        let bytes: ArraySlice<UInt8>
        var at: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            at = bytes.startIndex
        }

        var atEnd: Bool { at == bytes.endIndex }

        mutating func u8() -> UInt8? {
            guard at < bytes.endIndex else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func uint(_ width: Int) -> UInt64? {
            guard bytes.endIndex - at >= width else { return nil }
            var v: UInt64 = 0
            for i in 0..<width { v |= UInt64(bytes[at + i]) << UInt64(8 * i) }
            at += width
            return v
        }

        mutating func string() -> String? {
            guard let n = uint(2), bytes.endIndex - at >= Int(n) else { return nil }
            defer { at += Int(n) }
            return String(validating: bytes[at..<(at + Int(n))], as: UTF8.self)
        }

        mutating func rest() -> ArraySlice<UInt8> {
            defer { at = bytes.endIndex }
            return bytes[at...]
        }
    }
}

/// Reads the records of one file front to back in chunks (bounded memory, whatever the file's
/// size): a torn or corrupt record is skipped by finding the next magic, and counted.
struct SpoolScanner {
    let file: SpoolFile
    /// Where the next record is looked for.
    private(set) var offset: Int
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// Records skipped as corrupt (and a torn tail).
    private(set) var corrupt = 0
    /// Where the last good record ended (a torn tail starts here).
    private(set) var goodEnd: Int
    /// Whether bytes after `goodEnd` could not be read as records (a torn tail).
    private(set) var tornTail = false
    /// Whether the last record returned was written in format version 1.
    private(set) var lastWasLegacy = false
    static let chunk = 256 << 10

    init(file: SpoolFile, from offset: Int) {
        self.file = file
        self.offset = offset
        goodEnd = offset
    }

    /// Bytes `[at, at + count)` of the file, reading more when the buffer does not hold them;
    /// nil past the end of the file.
    private mutating func bytes(_ at: Int, _ count: Int) throws(IOError) -> ArraySlice<UInt8>? {
        if at < bufferStart || at + count > bufferStart + buffer.count {
            guard at + count <= file.size else { return nil }
            buffer = try file.read(offset: at, count: max(Self.chunk, count))
            bufferStart = at
            guard buffer.count >= count else { return nil }
        }
        return buffer[(at - bufferStart)..<(at - bufferStart + count)]
    }

    /// The next record, its start and its length; nil at the end.
    mutating func next() throws(IOError) -> (at: Int, record: SpoolRecord, length: Int)? {
        while offset < file.size {
            if let found = try parse(at: offset) {
                let at = offset
                offset += found.1
                goodEnd = offset
                return (at, found.0, found.1)
            }
            // Torn or corrupt: look for the next magic.
            guard let next = try findMagic(from: offset + 1) else {
                tornTail = true
                corrupt += 1
                offset = file.size
                return nil
            }
            corrupt += 1
            offset = next
        }
        return nil
    }

    private mutating func parse(at: Int) throws(IOError) -> (SpoolRecord, Int)? {
        let h = SpoolRecord.headerSize
        guard let head = try bytes(at, h) else { return nil }
        let magic = Array(head.prefix(4))
        let legacy = magic == SpoolRecord.legacyMagic
        guard legacy || magic == SpoolRecord.magic else { return nil }
        var length = 0
        for i in 0..<4 { length |= Int(head[head.startIndex + 4 + i]) << (8 * i) }
        var crc: UInt32 = 0
        for i in 0..<4 { crc |= UInt32(head[head.startIndex + 8 + i]) << UInt32(8 * i) }
        guard length > 0, length <= SpoolRecord.maxBodySize, let body = try bytes(at + h, length) else { return nil }
        guard CRC32C.checksum(body) == crc, let record = SpoolRecord.decode(body: body, legacy: legacy) else { return nil }
        lastWasLegacy = legacy
        return (record, h + length)
    }

    private mutating func findMagic(from: Int) throws(IOError) -> Int? {
        var at = from
        while at + 4 <= file.size {
            guard let window = try bytes(at, min(Self.chunk, file.size - at)) else { return nil }
            var i = window.startIndex
            while i + 4 <= window.endIndex {
                if window[i] == 0x4D && window[i + 1] == 0x4A && window[i + 2] == 0x53 && (window[i + 3] == 0x31 || window[i + 3] == 0x32) {
                    return at + (i - window.startIndex)
                }
                i += 1
            }
            at += max(1, window.count - 3)
        }
        return nil
    }
}

/// CRC-32C (Castagnoli), the checksum of spool records. Slicing-by-8: eight bytes per step
/// through eight tables (about 4x the bytewise loop on 4 KB payloads).
enum CRC32C {
    /// `tables[k][b]`: the CRC of byte `b` followed by `k` zero bytes.
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xFF)] }
        }
        return t
    }()
    static let flat: [UInt32] = tables.flatMap { $0 }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let fast = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) { return fast }
        return checksum(Array(bytes))
    }

    /// Whether the CPU computes CRC-32C itself (x86-64 with SSE 4.2): about ten times the
    /// table's speed on 4 KB records.
    static let hardware = mojo_cpu_has_crc32c() != 0

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        if hardware, let base = bytes.baseAddress {
            return ~mojo_crc32c_update(~0, base.assumingMemoryBound(to: UInt8.self), UInt(bytes.count))
        }
        return software(bytes)
    }

    /// Slicing-by-8 through the tables (CPUs without the instruction; tests).
    static func software(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        flat.withUnsafeBufferPointer { t in
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                let hi = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24
                let x = crc ^ lo
                crc = t[7 * 256 + Int(x & 0xFF)] ^ t[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((x >> 16) & 0xFF)] ^ t[4 * 256 + Int(x >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The plain bytewise definition, kept for tests to cross-check the fast path.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = tables[0][Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
