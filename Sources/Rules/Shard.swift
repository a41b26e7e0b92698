/// Which tenants one daemon of a group of `count` replicas holds: `--shard i/N`, `MOJO_SHARD`, or
/// `server { shard = "i/N" }`; `auto/N` takes `i` from the StatefulSet ordinal ending the host
/// name (`bridge-3` is shard 3).
///
/// Assignment is rendezvous (highest random weight) hashing on the tenant id: every replica
/// scores each `(shard, tenant)` pair with the same fixed 64-bit hash and a tenant belongs to the
/// shard with the highest score. Every replica decides alone, with no coordination, and going from
/// N to N + 1 shards moves only the tenants the new shard wins (about 1/(N + 1) of them).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// This replica's index, `0 ..< count`.
    public let index: Int
    /// How many replicas share the tenants.
    public let count: Int

    /// The largest `N` accepted.
    public static let maxCount = 4096

    /// A shard; `nil` unless `0 <= index < count <= maxCount`.
    public init?(index: Int, count: Int) {
        guard count >= 1, count <= Shard.maxCount, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// `i/N`.
    public var description: String { "\(index)/\(count)" }

    /// Whether this shard holds `tenant`.
    public func owns(_ tenant: String) -> Bool {
        count == 1 || Shard.owner(of: tenant, count: count) == index
    }

    /// The shard (`0 ..< count`) that holds `tenant`: the highest score, the lower index on a tie.
    public static func owner(of tenant: String, count: Int) -> Int {
        var best = 0
        var bestScore: UInt64 = 0
        for i in 0..<max(count, 1) {
            let s = score(shard: i, tenant: tenant)
            if i == 0 || s > bestScore { best = i; bestScore = s }
        }
        return best
    }

    /// The rendezvous weight of `tenant` on shard `shard`: FNV-1a 64 over the shard index (8 bytes,
    /// little-endian) and the tenant id's UTF-8, finished with MurmurHash3's 64-bit mixer so that
    /// nearby inputs spread over the whole range. Fixed: the same on every machine and every run
    /// (unlike Swift's per-process seeded `Hasher`).
    public static func score(shard: Int, tenant: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = UInt64(truncatingIfNeeded: shard)
        for _ in 0..<8 {
            h = (h ^ (index & 0xff)) &* 0x0000_0100_0000_01b3
            index >>= 8
        }
        for byte in tenant.utf8 {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }
}

/// A shard as written (`"2/4"`, or `"auto/4"` for the host name's ordinal), before the host name
/// is known.
public enum ShardSpec: Sendable, Equatable, CustomStringConvertible {
    /// `i/N`.
    case fixed(Shard)
    /// `auto/N`: the index is the number after the last `-` of the host name.
    case ordinal(count: Int)

    /// Parses `i/N` or `auto/N`; the error says what was expected.
    public static func parse(_ text: String) -> Result<ShardSpec, ShardError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[1]), count >= 1, count <= Shard.maxCount else {
            return .failure(ShardError("shard must be i/N or auto/N with 1 <= N <= \(Shard.maxCount), found \"\(text)\""))
        }
        if parts[0] == "auto" { return .success(.ordinal(count: count)) }
        guard let index = Int(parts[0]), let shard = Shard(index: index, count: count) else {
            return .failure(ShardError("shard index must be a number from 0 to \(count - 1) (or auto), found \"\(text)\""))
        }
        return .success(.fixed(shard))
    }

    /// The shard on host `hostname`: for `auto/N`, the ordinal after the host name's last `-`.
    public func resolve(hostname: String) -> Result<Shard, ShardError> {
        switch self {
        case .fixed(let shard):
            return .success(shard)
        case .ordinal(let count):
            guard let dash = hostname.lastIndex(of: "-"), let ordinal = Int(hostname[hostname.index(after: dash)...]),
                  hostname[hostname.index(after: dash)...].allSatisfy(\.isASCII) else {
                return .failure(ShardError("shard auto/\(count): host name \"\(hostname)\" does not end in -<ordinal> (a StatefulSet pod is named <set>-<ordinal>)"))
            }
            guard let shard = Shard(index: ordinal, count: count) else {
                return .failure(ShardError("shard auto/\(count): ordinal \(ordinal) of host \"\(hostname)\" is not below \(count) (more replicas than shards?)"))
            }
            return .success(shard)
        }
    }

    /// As written.
    public var description: String {
        switch self {
        case .fixed(let s): s.description
        case .ordinal(let count): "auto/\(count)"
        }
    }
}

/// Why a shard could not be parsed or resolved.
public struct ShardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason.
    public let description: String

    /// An error with its reason.
    public init(_ description: String) { self.description = description }
}
