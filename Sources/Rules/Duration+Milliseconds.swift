extension Duration {
    /// Whole milliseconds, truncated (sub-millisecond parts dropped), saturating at `Int.max`:
    /// how every configured duration (timeouts, retry delays, intervals) reaches timers.
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let (ms, overflow) = Int(clamping: seconds).multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        return ms + Int(attoseconds / 1_000_000_000_000_000)
    }
}
