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

    private var pending: [Pending] = []
    let ttlMs: Int
    let limit: Int

    init(ttlMs: Int = 120_000, limit: Int = 10_000) {
        self.ttlMs = ttlMs
        self.limit = limit
    }

    /// A sink sent `content` to `conversation`.
    mutating func record(tenant: String, conversation: String, content: String, origin: Origin, now: Deadline) {
        expire(now)
        if pending.count >= limit { pending.removeFirst() }
        pending.append(Pending(tenant: tenant, conversation: conversation, content: content, origin: origin,
                               expires: now.adding(milliseconds: ttlMs)))
    }

    /// The daemon's own message appeared: which sink sent it (nil when none did, e.g. `send`
    /// from another process with the same user).
    mutating func echo(tenant: String, conversation: String, content: String) -> Origin? {
        guard let i = pending.firstIndex(where: { !$0.echoed && $0.tenant == tenant && $0.conversation == conversation && $0.content == content }) else {
            return nil
        }
        pending[i].echoed = true
        return pending[i].origin
    }

    /// The server answered the oldest send to `conversation` (`message:sent` or `message:error`).
    mutating func answered(tenant: String, conversation: String?) -> Origin? {
        guard let i = pending.firstIndex(where: { $0.tenant == tenant && (conversation == nil || $0.conversation == conversation) }) else {
            return nil
        }
        return pending.remove(at: i).origin
    }

    /// Whether the send with spool id `commandId` still waits for its answer.
    func isPending(commandId: String) -> Bool {
        pending.contains { $0.origin.commandId == commandId }
    }

    /// Sends not yet answered.
    var count: Int { pending.count }

    private mutating func expire(_ now: Deadline) {
        if let first = pending.first, first.expires <= now {
            pending.removeAll { $0.expires <= now }
        }
    }
}
