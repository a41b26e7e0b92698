import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Which recipients the SMTP server accepted an event's mail for, while the event is still in
/// the spool (a later recipient failed): a retry mails only the others, after a restart too.
///
/// File `<spool dir>/.mail/<sink>.sent`, append-only, one line per change (`+ EVENT RECIPIENT`
/// when a mail is accepted, `- EVENT` once the event left the spool), written with `write(2)`
/// before the next mail starts, so a killed daemon keeps it; rewritten with what is live when it
/// grows past four times that. Used only by sinks with several recipients (with one, acceptance
/// is delivery). Bounded: the last `limit` events are remembered; older ones are forgotten (a
/// retry may then mail an earlier recipient again, with the same Message-ID).
/// In memory only when `files` is nil.
public final class EmailAcceptedLog {
    private var byEvent: [String: [String]] = [:]
    private var order: [String] = []
    private var orderHead = 0
    private var lines = 0
    private let path: String?
    private var fd: Int32 = -1
    /// How many events are remembered.
    public static let limit = 10_000

    public init(files: EmailStateFiles?) {
        guard let files else {
            path = nil
            return
        }
        let path = "\(files.directory)/\(files.sink).sent"
        self.path = path
        _ = mkdir(files.directory, 0o700)
        if case .success(let bytes) = FileReader.read(path: path, maxBytes: 16 << 20) {
            for line in bytes.split(separator: 10) {
                lines += 1
                let parts = line.split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
                if parts.count == 3, parts[0] == "+" { add(parts[1], parts[2]) }
                if parts.count == 2, parts[0] == "-" { byEvent[parts[1]] = nil }
            }
        }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        compactIfLarge()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether `recipient` accepted the mail of `event` already.
    public func contains(_ event: String, recipient: String) -> Bool {
        byEvent[event]?.contains(recipient) ?? false
    }

    /// The server accepted the mail of `events` for `recipient`.
    public func record(_ events: [String], recipient: String) {
        var text = ""
        for e in events where Self.isToken(e) && Self.isToken(recipient) && !contains(e, recipient: recipient) {
            add(e, recipient)
            text += "+ \(e) \(recipient)\n"
        }
        append(text)
    }

    /// `events` left the spool: their recipients need not be remembered.
    public func forget(_ events: [String]) {
        var text = ""
        for e in events where byEvent.removeValue(forKey: e) != nil { text += "- \(e)\n" }
        append(text)
        compactIfLarge()
    }

    private func add(_ event: String, _ recipient: String) {
        if byEvent[event] == nil {
            order.append(event)
            if order.count - orderHead > Self.limit {
                byEvent[order[orderHead]] = nil
                orderHead += 1
            }
            if orderHead > 1024 && orderHead * 2 > order.count {
                order.removeFirst(orderHead)
                orderHead = 0
            }
        }
        byEvent[event, default: []].append(recipient)
    }

    private func append(_ text: String) {
        guard !text.isEmpty, fd >= 0 else { return }
        lines += text.utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        _ = Self.writeAll(fd, Array(text.utf8))
    }

    /// Rewrites the file with the live entries when the log is four times their size.
    private func compactIfLarge() {
        guard let path, fd >= 0 else { return }
        let live = byEvent.values.reduce(0) { $0 + $1.count }
        guard lines > 4 * live + 256 else { return }
        var text = ""
        for e in order[orderHead...] { for r in byEvent[e] ?? [] { text += "+ \(e) \(r)\n" } }
        let temporary = path + ".tmp"
        let t = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard t >= 0 else { return }
        let ok = Self.writeAll(t, Array(text.utf8))
        close(t)
        guard ok, rename(temporary, path) == 0 else { return }
        close(fd)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        lines = live
    }

    /// Ids and addresses go in the file only when they hold no space or control character.
    private static func isToken(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 > 32 && $0 != 127 } }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
