import Curl
import Diagnostics
import Transport

/// Polls one IMAP folder for replies through libcurl, one command at a time:
///
/// 1. `SELECT folder` on the server URL (UIDVALIDITY and UIDNEXT);
/// 2. when there is something past the cursor, `UID SEARCH UID n:*` in the folder;
/// 3. for each new UID in order: fetch (`;UIDVALIDITY=v/;UID=n`), hand the bytes to `onMail`
///    (which posts durably, synchronously), save the cursor, then `UID STORE n +FLAGS (\Seen)`
///    or `UID MOVE n folder`.
///
/// The cursor (UIDVALIDITY + last UID) is saved after each mail, so a restart neither loses nor
/// repeats one (a crash between posting and saving is caught by the Message-ID dedupe). A new
/// UIDVALIDITY starts the cursor again. Failures retry with backoff (1 s doubling, at most the
/// poll interval); a mail over `max_size` is skipped (logged) rather than retried forever.
final class EmailIMAPPoller {
    private let base: MailTransferRequest
    private let intervalMs: Int
    private let processedFolder: String?
    private let files: EmailStateFiles?
    private let loop: EventLoop
    private let curl: CurlMulti
    private let log: Logger
    private let onMail: ([UInt8]) -> Void
    /// A mail that could not be taken (over the size limit): the reason.
    var onRefused: ((String) -> Void)?
    private let server: String
    private let folder: String
    private var cursor: (validity: UInt64, lastUID: UInt64)?
    private var timer: TimerID?
    private var inFlight: RequestID?
    private var stopped = false
    private var backoffMs = 0

    init(base: MailTransferRequest, intervalMs: Int, processedFolder: String?, files: EmailStateFiles?,
         loop: EventLoop, curl: CurlMulti, log: Logger, onMail: @escaping ([UInt8]) -> Void) {
        self.base = base
        self.intervalMs = max(1000, intervalMs)
        self.processedFolder = processedFolder
        self.files = files
        self.loop = loop
        self.curl = curl
        self.log = log
        self.onMail = onMail
        (server, folder) = Self.split(base.url)
        cursor = files?.loadCursor()
    }

    /// `imaps://host:993/INBOX;x` as (`imaps://host:993/`, `INBOX`) (the folder percent-encoded as given).
    static func split(_ url: String) -> (String, String) {
        guard let scheme = url.firstRange(of: "://") else { return (url, "INBOX") }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return (url + "/", "INBOX") }
        var folder = String(rest[rest.index(after: slash)...].prefix(while: { $0 != ";" && $0 != "?" }))
        if folder.hasSuffix("/") { folder.removeLast() }
        return (String(url[..<rest.index(after: slash)]), folder.isEmpty ? "INBOX" : folder)
    }

    static func isValidFolder(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && $0 != "\"" && $0 != "\\" }
    }

    /// The folder name as an IMAP quoted string (percent-decoding the URL form).
    private var folderArgument: String { "\"" + Self.percentDecoded(folder) + "\"" }

    static func percentDecoded(_ s: String) -> String {
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let h = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                bytes.append(h)
                i += 3
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes.filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 >= 0x20 }, as: UTF8.self)
    }

    func start() { schedule(afterMs: 0) }

    func stop() {
        stopped = true
        if let timer { loop.cancel(timer) }
        if let inFlight { curl.cancel(inFlight) }
        timer = nil
        inFlight = nil
    }

    private func schedule(afterMs ms: Int) {
        guard !stopped else { return }
        if let timer { loop.cancel(timer) }
        timer = loop.schedule(afterMilliseconds: ms) { [weak self] in
            self?.timer = nil
            self?.poll()
        }
    }

    private func run(url: String, command: String?, _ next: @escaping (MailTransferResult) -> Void) {
        var request = base
        request.url = url
        request.command = command
        inFlight = curl.perform(mail: request) { [weak self] result in
            guard let self, !self.stopped else { return }
            self.inFlight = nil
            next(result)
        }
    }

    /// A failed step: try again after the backoff.
    private func failed(_ what: String, _ r: MailTransferResult) {
        backoffMs = min(intervalMs, max(1000, backoffMs * 2))
        log.warn("IMAP poll failed; will retry", [("step", what), ("error", r.error), ("server", r.serverReply), ("retry_in_ms", String(backoffMs))])
        schedule(afterMs: backoffMs)
    }

    private func poll() {
        // SELECT rather than STATUS: STATUS on the selected mailbox (libcurl keeps it selected on a
        // reused connection) may answer from a stale view; SELECT resynchronises. libcurl then
        // finds the folder already selected and goes on.
        run(url: server, command: "SELECT \(folderArgument)") { [weak self] r in
            guard let self else { return }
            guard r.succeeded, let status = Self.status(r.body) else { return self.failed("SELECT", r) }
            if let c = self.cursor, c.validity != status.validity {
                self.log.warn("IMAP UIDVALIDITY changed: the folder was recreated; reading it from the start",
                              [("old", String(c.validity)), ("new", String(status.validity))])
                self.cursor = nil
            }
            let last = self.cursor?.lastUID ?? 0
            self.log.debug("IMAP poll", [("uidvalidity", String(status.validity)), ("uidnext", String(status.uidNext)), ("last_uid", String(last))])
            if self.cursor == nil { self.cursor = (status.validity, 0) }
            guard status.uidNext > last + 1 else { return self.idle() }
            self.search(from: last + 1, validity: status.validity)
        }
    }

    private func idle() {
        backoffMs = 0
        schedule(afterMs: intervalMs)
    }

    private func search(from uid: UInt64, validity: UInt64) {
        run(url: server + folder, command: "UID SEARCH UID \(uid):*") { [weak self] r in
            guard let self else { return }
            guard r.succeeded else { return self.failed("SEARCH", r) }
            let uids = Self.searchResult(r.body).filter { $0 >= uid }.sorted()
            self.log.debug("IMAP search", [("from", String(uid)), ("found", uids.map(String.init).joined(separator: ","))])
            self.fetch(uids[...], validity: validity)
        }
    }

    private func fetch(_ uids: ArraySlice<UInt64>, validity: UInt64) {
        guard let uid = uids.first else { return idle() }
        run(url: "\(server)\(folder);UIDVALIDITY=\(validity)/;UID=\(uid)", command: nil) { [weak self] r in
            guard let self else { return }
            if r.succeeded {
                self.onMail(r.body)
            } else if r.curlCode == 63 || r.error.contains("larger than maxResponseBytes") {
                self.onRefused?("IMAP UID \(uid) is over max_size (\(self.base.maxResponseBytes) bytes)")
            } else {
                return self.failed("FETCH", r)
            }
            // Handled: the cursor moves past it before the flag, so a failed flag never repeats a reply.
            self.cursor = (validity, uid)
            self.files?.saveCursor(validity: validity, lastUID: uid)
            self.mark(uid) { self.fetch(uids.dropFirst(), validity: validity) }
        }
    }

    private func mark(_ uid: UInt64, then next: @escaping () -> Void) {
        let command = processedFolder.map { "UID MOVE \(uid) \"\($0)\"" } ?? "UID STORE \(uid) +FLAGS (\\Seen)"
        run(url: server + folder, command: command) { [weak self] r in
            if !r.succeeded {
                self?.log.warn("IMAP could not mark a handled mail (it stays, the cursor is past it)",
                               [("uid", String(uid)), ("error", r.error), ("server", r.serverReply)])
            }
            next()
        }
    }

    /// `* OK [UIDVALIDITY 1]` ... `* OK [UIDNEXT 7]` (or a STATUS answer) -> (1, 7).
    static func status(_ body: [UInt8]) -> (validity: UInt64, uidNext: UInt64)? {
        let text = String(decoding: body, as: UTF8.self).uppercased()
        func number(after key: String) -> UInt64? {
            guard let r = text.firstRange(of: key + " ") else { return nil }
            return UInt64(text[r.upperBound...].prefix(while: { $0.isNumber }))
        }
        guard let v = number(after: "UIDVALIDITY"), let n = number(after: "UIDNEXT") else { return nil }
        return (v, n)
    }

    /// `* SEARCH 3 5 9` -> [3, 5, 9].
    static func searchResult(_ body: [UInt8]) -> [UInt64] {
        var out: [UInt64] = []
        for line in String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline) where line.uppercased().hasPrefix("* SEARCH") {
            out += line.dropFirst(8).split(separator: " ").compactMap { UInt64($0) }
        }
        return out
    }
}
