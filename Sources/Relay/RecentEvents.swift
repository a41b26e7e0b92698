/// The last `limit` events handed to sinks, by envelope id: what a reply naming one of them
/// (`inReplyTo`) answers, so its tenant, conversation and hop count come from the event itself
/// rather than from whatever the sink saw last.
///
/// Bounded: past `limit` the oldest is forgotten (a reply naming it is then refused unless it
/// names its tenant and conversation). Memory is about 150 bytes per entry.
struct RecentEvents {
    private var byID: [String: AnsweredEvent] = [:]
    /// Ids in arrival order, a ring once full (grown on use: an idle daemon holds nothing).
    private var order: [String] = []
    private var next = 0
    let limit: Int

    init(limit: Int = 4096) {
        self.limit = max(1, limit)
    }

    /// Remembers `event` (again: a retried delivery keeps one entry).
    mutating func record(_ event: AnsweredEvent) {
        if byID.updateValue(event, forKey: event.id) != nil { return }
        if order.count < limit {
            order.append(event.id)
            return
        }
        byID.removeValue(forKey: order[next])
        order[next] = event.id
        next = (next + 1) % limit
    }

    /// The event with envelope id `id`, if still remembered.
    func find(_ id: String) -> AnsweredEvent? { byID[id] }

    var count: Int { byID.count }

    /// The hop count of the newest remembered event of `conversation` (in `tenant` when given).
    func latestHops(tenant: String?, conversation: String) -> Int? {
        guard !order.isEmpty else { return nil }
        let newest = order.count < limit ? order.count - 1 : (next - 1 + limit) % limit
        for k in 0..<order.count {
            let i = (newest - k + order.count) % order.count
            if let e = byID[order[i]], e.conversationId == conversation, tenant == nil || e.tenant == tenant { return e.hops }
        }
        return nil
    }
}
