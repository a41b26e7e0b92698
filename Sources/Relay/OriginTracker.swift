import Transport

/// Remembers which sink sent which message, so that the echo the server sends back
/// (`message:new` from the daemon's own user, then `message:sent`) is never delivered to the sink
/// it came from, and an error (`message:error`) reaches the sink that caused it.
///
/// The server gives no correlation id: a send is matched to its echo by tenant, conversation and
/// content, oldest first, and to `message:sent`/`message:error` by tenant and conversation, oldest
/// first (the server answers one socket's sends in order). Entries expire after `ttlMs`.
struct OriginTracker {
    struct Origin: Equatable {
        var sink: String
        var hops: Int
        var commandId: String?
    }

    private struct Pending {
        var tenant: String
        var conversation: String
        var content: String
        var origin: Origin
        var expires: Deadline
        var echoed = false
    }

    /// Oldest first from `head`; answered entries become nil until the head passes them (the
    /// server answers in order, so the oldest entry is the one answered: O(1) per answer).
    private var pending: [Pending?] = []
    private var head = 0
    private(set) var count = 0
    let ttlMs: Int
    let limit: Int

    init(ttlMs: Int = 120_000, limit: Int = 10_000) {
        self.ttlMs = ttlMs
        self.limit = limit
    }

    /// A sink sent `content` to `conversation`. Returns the sends forgotten unanswered to make
    /// room (expired after `ttlMs`, or the oldest past `limit`), with their tenants.
    @discardableResult
    mutating func record(tenant: String, conversation: String, content: String, origin: Origin,
                         now: Deadline) -> [(tenant: String, origin: Origin)] {
        var forgotten: [(tenant: String, origin: Origin)] = []
        // Entries are recorded in time order with one ttl: the expired ones are the oldest.
        while let first = oldest, first.expires <= now || count >= limit {
            forgotten.append((first.tenant, first.origin))
            pending[head] = nil
            count -= 1
            advance()
        }
        pending.append(Pending(tenant: tenant, conversation: conversation, content: content, origin: origin,
                               expires: now.adding(milliseconds: ttlMs)))
        count += 1
        return forgotten
    }

    /// The daemon's own message appeared: which sink sent it (nil when none did, e.g. `send`
    /// from another process with the same user).
    mutating func echo(tenant: String, conversation: String, content: String) -> Origin? {
        guard let i = index(where: { !$0.echoed && $0.tenant == tenant && $0.conversation == conversation && $0.content == content }) else {
            return nil
        }
        pending[i]?.echoed = true
        return pending[i]?.origin
    }

    /// The server answered the oldest send to `conversation` (`message:sent` or `message:error`).
    mutating func answered(tenant: String, conversation: String?) -> Origin? {
        guard let i = index(where: { $0.tenant == tenant && (conversation == nil || $0.conversation == conversation) }),
              let entry = pending[i] else {
            return nil
        }
        pending[i] = nil
        count -= 1
        advance()
        return entry.origin
    }

    /// Whether the send with spool id `commandId` still waits for its answer.
    func isPending(commandId: String) -> Bool {
        index { $0.origin.commandId == commandId } != nil
    }

    private var oldest: Pending? { head < pending.count ? pending[head] : nil }

    private func index(where match: (Pending) -> Bool) -> Int? {
        var i = head
        while i < pending.count {
            if let p = pending[i], match(p) { return i }
            i += 1
        }
        return nil
    }

    /// Moves the head past answered entries; compacts once the dead prefix is most of the array.
    private mutating func advance() {
        while head < pending.count && pending[head] == nil { head += 1 }
        if head == pending.count {
            pending.removeAll(keepingCapacity: pending.count <= 1024)
            head = 0
        } else if head > 1024 && head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
    }
}
