import Diagnostics
import JSON

/// The one JSON vocabulary used on every channel:
/// `{"id":"evt_...","type":"message:new","timestamp":"...","tenant":"org_x","data":{...}}`.
///
/// Events going out are written straight into a byte buffer, the server's `data` bytes spliced in
/// unchanged (no decode/re-encode on the hot path).
public enum Envelope {
    /// Appends one envelope (no trailing newline) to `out`. `data` must be valid JSON (it is: it
    /// comes from the validated Socket.IO packet).
    public static func encode(id: String, type: String, timestamp: String, tenant: String,
                              data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        encode(id: id, type: type, tenant: tenant, data: data, into: &out) { JSONScanner.appendEscaped(timestamp, into: &$0) }
    }

    /// Appends one envelope stamped now (``Timestamp/appendNowISO8601(into:)``, written straight
    /// into `out`: the relay's hot path builds no timestamp `String`).
    public static func encode(id: String, type: String, tenant: String, data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        encode(id: id, type: type, tenant: tenant, data: data, into: &out) { out in
            out.append(UInt8(ascii: "\""))
            Timestamp.appendNowISO8601(into: &out)
            out.append(UInt8(ascii: "\""))
        }
    }

    @inline(__always)
    private static func encode(id: String, type: String, tenant: String, data: UnsafeRawBufferPointer,
                               into out: inout [UInt8], timestamp: (inout [UInt8]) -> Void) {
        append(#"{"id":"#, to: &out)
        JSONScanner.appendEscaped(id, into: &out)
        append(#","type":"#, to: &out)
        JSONScanner.appendEscaped(type, into: &out)
        append(#","timestamp":"#, to: &out)
        timestamp(&out)
        append(#","tenant":"#, to: &out)
        JSONScanner.appendEscaped(tenant, into: &out)
        append(#","data":"#, to: &out)
        if data.isEmpty { append("null", to: &out) } else { out.append(contentsOf: data) }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a literal's bytes with one copy (appending a `String`'s `utf8` view goes through
    /// the generic sequence path, byte by byte).
    @inline(__always) private static func append(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// A command read from a sink: the envelope's `id` (when given, the idempotency key), its
    /// `tenant` (when given) and the typed command.
    public struct Inbound: Sendable, Equatable {
        public var id: String?
        public var tenant: String?
        public var command: MojoCommand

        /// A command with its optional id and tenant.
        public init(id: String?, tenant: String?, command: MojoCommand) {
            self.id = id
            self.tenant = tenant
            self.command = command
        }
    }

    /// Parses one inbound line or body. A JSON object is a command in the shared vocabulary; with
    /// `plainText` allowed, anything else (a line not starting with `{`) is `message:send` of that
    /// text to `defaultConversation`.
    public static func parseCommand(_ bytes: [UInt8], defaultConversation: String?, plainText: Bool) throws(CommandError) -> Inbound {
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        if plainText, start == bytes.count || bytes[start] != UInt8(ascii: "{") {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
            guard let conversation = defaultConversation else { throw .missingField(command: "message:send", field: "conversationId") }
            if text.isEmpty { throw .emptyContent }
            return Inbound(id: nil, tenant: nil, command: .send(conversationId: conversation, content: text))
        }
        let json: JSONValue
        do { json = try JSONValue(parsing: bytes) } catch { throw .notJSON(error.description) }
        guard json.objectValue != nil else { throw .notAnObject }
        guard let type = json["type"]?.stringValue else { throw .missingField(command: "command", field: "type") }
        let command = try MojoCommand(type: type, data: json["data"], defaultConversation: defaultConversation)
        return Inbound(id: json["id"]?.stringValue, tenant: json["tenant"]?.stringValue, command: command)
    }
}
