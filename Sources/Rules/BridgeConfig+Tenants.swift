extension BridgeConfig {
    /// The configured tenants whose events some route feeding `sink` can carry, in file order:
    /// a reply from that sink naming no tenant may go only where this list has one entry.
    public func tenants(reaching sink: String) -> [String] {
        tenants.map(\.id).filter { tenant in
            routes.contains { $0.sinks.contains(sink) && ($0.tenants.isEmpty || Glob.matchesAny($0.tenants, tenant)) }
        }
    }
}
