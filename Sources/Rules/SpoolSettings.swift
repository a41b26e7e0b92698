/// The `spool { }` block: the durable queue of undelivered events and replies.
public struct SpoolSettings: Sendable, Equatable {
    /// `dir`: resolved directory; default `/var/lib/mojo-bridge/spool`.
    public var directory: String
    /// `max_size`: bytes on disk before the oldest entries are dropped (counted and logged); default 512MiB.
    public var maxSize: Int

    /// Settings from their values.
    public init(directory: String = "/var/lib/mojo-bridge/spool", maxSize: Int = 512 << 20) {
        self.directory = directory
        self.maxSize = maxSize
    }

    static let keys = ["dir", "max_size"]

    static func read(_ reader: inout BlockReader) -> SpoolSettings {
        SpoolSettings(directory: reader.path("dir", mustBeReadable: false) ?? "/var/lib/mojo-bridge/spool",
                      maxSize: reader.size("max_size", default: 512 << 20))
    }
}
