/// The one encoder of the shared vocabulary's envelope,
/// `{"id":"evt_...","type":"message:new","timestamp":"...","tenant":"org_x","hops":1,"data":{...}}`:
/// what the relay sends to sinks (`Mojo.Envelope`) and what `check --event` and `mojo-bridge test`
/// show (`RoutableEvent`), so the two cannot drift apart. Written straight into a byte buffer; the
/// `data` bytes are spliced in unchanged.
public enum EnvelopeEncoding {
    /// Appends one envelope (no trailing newline) to `out`. `id` is left out when nil (an event
    /// read from a file without one); `timestamp` writes the timestamp's JSON value (quotes
    /// included), and the field is left out when `hasTimestamp` is false; `hops` is written only when above 0 (absent
    /// means 0: events people made). `data` must be valid JSON; empty writes `null`.
    @inlinable @inline(__always)
    public static func append(id: String?, type: String, tenant: String, hops: Int, data: UnsafeRawBufferPointer,
                              into out: inout [UInt8], hasTimestamp: Bool = true, timestamp: (inout [UInt8]) -> Void) {
        if let id {
            append(#"{"id":"#, to: &out)
            JSONScanner.appendEscaped(id, into: &out)
            append(#","type":"#, to: &out)
        } else {
            append(#"{"type":"#, to: &out)
        }
        JSONScanner.appendEscaped(type, into: &out)
        if hasTimestamp {
            append(#","timestamp":"#, to: &out)
            timestamp(&out)
        }
        append(#","tenant":"#, to: &out)
        JSONScanner.appendEscaped(tenant, into: &out)
        // A consumer answering later sends `hops` back (or `inReplyTo`) so the loop guard holds.
        if hops > 0 {
            append(#","hops":"#, to: &out)
            out.append(contentsOf: String(hops).utf8)
        }
        append(#","data":"#, to: &out)
        if data.isEmpty { append("null", to: &out) } else { out.append(contentsOf: data) }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a literal's bytes with one copy (appending a `String`'s `utf8` view goes through
    /// the generic sequence path, byte by byte).
    @usableFromInline @inline(__always) static func append(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}
