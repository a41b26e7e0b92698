#if canImport(Glibc)
import Glibc
#endif

/// Which destination addresses a request may connect to: the SSRF guard of webhooks.
///
/// Checked on the address libcurl is about to connect to (after DNS), so a name that resolves,
/// or later re-resolves, to an internal address is refused too (no DNS-rebinding bypass).
public enum AddressPolicy: Sendable {
    /// Any address.
    case any
    /// Only public unicast addresses: no loopback, private (RFC 1918, ULA), link-local, CGNAT,
    /// unspecified, multicast, broadcast or reserved ranges, IPv4-mapped forms included.
    case publicOnly

    /// Whether the address `sa` (IPv4 or IPv6) may be used.
    static func allows(_ sa: UnsafePointer<sockaddr>, policy: AddressPolicy) -> Bool {
        if case .any = policy { return true }
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            let v4 = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            return isPublic(v4: v4)
        case AF_INET6:
            let bytes = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) }
            }
            return isPublic(v6: bytes)
        default:
            return false
        }
    }

    /// The address as text, for error messages.
    static func describe(_ sa: UnsafePointer<sockaddr>) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                var a = p.pointee.sin_addr
                _ = inet_ntop(AF_INET, &a, &buf, 64)
            }
        case AF_INET6:
            sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                var a = p.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &a, &buf, 64)
            }
        default:
            return "an address of family \(sa.pointee.sa_family)"
        }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Public IPv4 unicast.
    static func isPublic(v4 a: UInt32) -> Bool {
        let blocked: [(UInt32, Int)] = [
            (0x0000_0000, 8), (0x0A00_0000, 8), (0x6440_0000, 10), (0x7F00_0000, 8), (0xA9FE_0000, 16),
            (0xAC10_0000, 12), (0xC000_0000, 24), (0xC000_0200, 24), (0xC0A8_0000, 16), (0xC612_0000, 15),
            (0xC633_6400, 24), (0xCB00_7100, 24), (0xE000_0000, 4), (0xF000_0000, 4),
        ]
        return !blocked.contains { net, bits in a >> UInt32(32 - bits) == net >> UInt32(32 - bits) }
    }

    /// Public IPv6 unicast (2000::/3), with IPv4-mapped and NAT64 forms judged by their IPv4 part.
    static func isPublic(v6 b: [UInt8]) -> Bool {
        guard b.count == 16 else { return false }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {
            return isPublic(v4: UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15]))
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B {
            return isPublic(v4: UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15]))
        }
        return b[0] & 0xE0 == 0x20 && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8)
    }
}
