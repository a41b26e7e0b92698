/// The `spool { }` block: the durable queue of undelivered events and replies.
public struct SpoolSettings: Sendable, Equatable {
    /// `dir`: resolved directory; default `/var/lib/mojo-bridge/spool`.
    public var directory: String
    /// `max_size`: bytes on disk per sink before its `when_full` policy applies; default 512MiB.
    public var maxSize: Int
    /// `fsync`: how often spool writes are flushed to stable storage (`0s`: after every write);
    /// default 1s. Writes reach the kernel at once, so a killed daemon loses nothing either way.
    public var fsync: Duration

    /// Settings from their values.
    public init(directory: String = "/var/lib/mojo-bridge/spool", maxSize: Int = 512 << 20, fsync: Duration = .seconds(1)) {
        self.directory = directory
        self.maxSize = maxSize
        self.fsync = fsync
    }

    static let keys = ["dir", "max_size", "fsync"]

    static func read(_ reader: inout BlockReader) -> SpoolSettings {
        SpoolSettings(directory: reader.path("dir", mustBeReadable: false) ?? "/var/lib/mojo-bridge/spool",
                      maxSize: reader.size("max_size", default: 512 << 20),
                      fsync: reader.duration("fsync", default: .seconds(1)))
    }
}
