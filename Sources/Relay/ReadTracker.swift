/// What a pipe child has *read* (measured, not merely written to its pipe), as the context of
/// the lines it prints: a plain-text line from a per-route child answers the last event it read.
///
/// The verdict is taken once per batch of output: when the child has read events of more than
/// one conversation since its previous output line, which one a line answers cannot be told and
/// the context is `ambiguous` (the line is refused unless it names its conversation and tenant,
/// or `inReplyTo`). Lines printed before the child reads anything new share the verdict.
/// A pure value: `PipeChild` feeds it; tests drive it without a process.
struct ReadTracker {
    /// The context of the next output line.
    struct Context: Equatable {
        /// The last event read.
        var read: AnsweredEvent?
        /// The highest hop count among the events read since the previous output (the loop guard
        /// takes the worst case).
        var hops: Int
        /// Why the last read event is not a safe default; nil when it is.
        var ambiguity: String?
    }

    /// Events read recently, for `inReplyTo` lookups (a ring of `recentLimit`).
    private var recent: [AnsweredEvent] = []
    private var recentNext = 0
    let recentLimit: Int
    private var last: AnsweredEvent?
    /// Since the previous output line: distinct conversations read (up to 2 are enough to know)
    /// and the highest hop count.
    private var windowKeys: [String] = []
    private var windowCount = 0
    private var windowHops = 0
    private var verdict = Context(read: nil, hops: 0, ambiguity: nil)

    init(recentLimit: Int = 64) {
        self.recentLimit = max(1, recentLimit)
    }

    /// The child has read `delivery` in full.
    mutating func read(_ delivery: Delivery) {
        let event = AnsweredEvent(id: delivery.eventId, tenant: delivery.tenant, conversationId: delivery.conversationId,
                                  hops: delivery.hops)
        last = event
        let key = delivery.tenant + "/" + (delivery.conversationId ?? "")
        if windowKeys.count < 2, !windowKeys.contains(key) { windowKeys.append(key) }
        windowCount += 1
        windowHops = max(windowHops, delivery.hops)
        if recent.count < recentLimit {
            recent.append(event)
        } else {
            recent[recentNext] = event
            recentNext = (recentNext + 1) % recentLimit
        }
    }

    /// The context of one output line; starts a new window.
    mutating func replyContext() -> Context {
        if windowCount > 0 {
            let ambiguity = windowKeys.count > 1
                ? "the child read events of several conversations (\(windowCount) events) since its previous line"
                : nil
            verdict = Context(read: last, hops: windowHops, ambiguity: ambiguity)
            windowKeys.removeAll(keepingCapacity: true)
            windowCount = 0
            windowHops = 0
        }
        return verdict
    }

    /// A recently read event by id.
    func find(_ id: String) -> AnsweredEvent? {
        recent.last { $0.id == id }
    }
}
