import Transport

/// Rate-limits typing indicators from sinks so that a chatty sink cannot flood the server: per
/// tenant and conversation, at most one `typing:start` per `intervalMs` (repeats are dropped; the
/// indicator is still on), and a `typing:stop` only after a start.
struct TypingLimiter {
    private var lastStart: [String: Deadline] = [:]
    let intervalMs: Int

    init(intervalMs: Int = 2000) { self.intervalMs = intervalMs }

    /// Whether to forward a typing command now.
    mutating func allow(start: Bool, tenant: String, conversation: String, now: Deadline) -> Bool {
        let key = tenant + "\u{0}" + conversation
        if start {
            if let last = lastStart[key], now < last.adding(milliseconds: intervalMs) { return false }
            if lastStart.count > 10_000 { lastStart.removeAll() }
            lastStart[key] = now
            return true
        }
        return lastStart.removeValue(forKey: key) != nil
    }
}
