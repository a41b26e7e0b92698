import Diagnostics
import JSON

/// The one JSON vocabulary used on every channel:
/// `{"id":"evt_...","type":"message:new","timestamp":"...","tenant":"org_x","data":{...}}`.
///
/// Events going out are written straight into a byte buffer, the server's `data` bytes spliced in
/// unchanged (no decode/re-encode on the hot path), by ``EnvelopeEncoding`` (shared with the
/// rules' offline rendering).
public enum Envelope {
    /// Appends one envelope (no trailing newline) to `out`. `data` must be valid JSON (it is: it
    /// comes from the validated Socket.IO packet).
    public static func encode(id: String, type: String, timestamp: String, tenant: String, hops: Int = 0,
                              data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        encode(id: id, type: type, tenant: tenant, hops: hops, data: data, into: &out) { JSONScanner.appendEscaped(timestamp, into: &$0) }
    }

    /// Appends one envelope stamped now (``Timestamp/appendNowISO8601(into:)``, written straight
    /// into `out`: the relay's hot path builds no timestamp `String`).
    public static func encode(id: String, type: String, tenant: String, hops: Int = 0, data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        encode(id: id, type: type, tenant: tenant, hops: hops, data: data, into: &out) { out in
            out.append(UInt8(ascii: "\""))
            Timestamp.appendNowISO8601(into: &out)
            out.append(UInt8(ascii: "\""))
        }
    }

    @inline(__always)
    private static func encode(id: String, type: String, tenant: String, hops: Int, data: UnsafeRawBufferPointer,
                               into out: inout [UInt8], timestamp: (inout [UInt8]) -> Void) {
        EnvelopeEncoding.append(id: id, type: type, tenant: tenant, hops: hops, data: data, into: &out, timestamp: timestamp)
    }

    /// A command read from a sink: the envelope's `id` (when given, the idempotency key), its
    /// `tenant` (when given) and the typed command.
    public struct Inbound: Sendable, Equatable {
        public var id: String?
        public var tenant: String?
        public var command: MojoCommand
        /// `inReplyTo`: the envelope `id` of the event this command answers (explicit correlation).
        public var inReplyTo: String?
        /// `hops`: the hop count of the answered event as the sender read it from the envelope.
        public var hops: Int?
        /// Whether the command's conversation was not written in it but taken from the default
        /// (a plain-text line, or JSON without `conversationId`).
        public var implicitConversation: Bool

        /// A command with its optional id and tenant.
        public init(id: String?, tenant: String?, command: MojoCommand, inReplyTo: String? = nil, hops: Int? = nil,
                    implicitConversation: Bool = false) {
            self.id = id
            self.tenant = tenant
            self.command = command
            self.inReplyTo = inReplyTo
            self.hops = hops
            self.implicitConversation = implicitConversation
        }
    }

    /// Parses one inbound line or body. A JSON object is a command in the shared vocabulary; with
    /// `plainText` allowed, anything else (a line not starting with `{`) is `message:send` of that
    /// text to `defaultConversation`.
    public static func parseCommand(_ bytes: [UInt8], defaultConversation: String?, plainText: Bool) throws(CommandError) -> Inbound {
        try parseCommand(bytes, plainText: plainText) { _ in defaultConversation }
    }

    /// Parses one inbound line or body; the default conversation is asked for only when the
    /// command has none, given its `inReplyTo` (nil for plain text or when absent).
    public static func parseCommand(_ bytes: [UInt8], plainText: Bool,
                                    defaultConversation: (_ inReplyTo: String?) -> String?) throws(CommandError) -> Inbound {
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        if plainText, start == bytes.count || bytes[start] != UInt8(ascii: "{") {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
            guard let conversation = defaultConversation(nil) else { throw .missingField(command: "message:send", field: "conversationId") }
            if text.isEmpty { throw .emptyContent }
            return Inbound(id: nil, tenant: nil, command: .send(conversationId: conversation, content: text), implicitConversation: true)
        }
        let json: JSONValue
        do { json = try JSONValue(parsing: bytes) } catch { throw .notJSON(error.description) }
        guard json.objectValue != nil else { throw .notAnObject }
        guard let type = json["type"]?.stringValue else { throw .missingField(command: "command", field: "type") }
        let inReplyTo = json["inReplyTo"]?.stringValue
        let implicit: Bool
        switch json["data"]?["conversationId"] {
        case nil, .null?: implicit = true
        default: implicit = false
        }
        let command = try MojoCommand(type: type, data: json["data"], defaultConversation: implicit ? defaultConversation(inReplyTo) : nil)
        let hops = json["hops"]?.intValue
        return Inbound(id: json["id"]?.stringValue, tenant: json["tenant"]?.stringValue, command: command,
                       inReplyTo: inReplyTo, hops: hops.map { max(0, $0) },
                       implicitConversation: implicit && command.conversationId != nil)
    }
}
