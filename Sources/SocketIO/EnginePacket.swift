import JSON

/// The handshake data of an Engine.IO v4 open packet (`0{"sid":…}`).
public struct EngineOpen: Sendable, Equatable {
    /// The session id, used by the polling transport and the websocket upgrade.
    public var sid: String
    /// Transports the client may upgrade to (for example `["websocket"]`).
    public var upgrades: [String]
    /// Milliseconds between server pings.
    public var pingInterval: Int
    /// Milliseconds the server waits for a pong (and, client side, the grace after `pingInterval`).
    public var pingTimeout: Int
    /// Largest payload in bytes the server accepts; `1_000_000` when the server does not say.
    public var maxPayload: Int

    /// The default `maxPayload` of a Node server, assumed when the open packet has none.
    public static let defaultMaxPayload = 1_000_000

    /// Creates handshake data.
    public init(sid: String, upgrades: [String] = [], pingInterval: Int = 25_000, pingTimeout: Int = 20_000,
                maxPayload: Int = EngineOpen.defaultMaxPayload) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// Reads the JSON after the `0` type byte.
    public init(json bytes: UnsafeRawBufferPointer) throws(EngineIOError) {
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw .invalidOpen(error.description)
        }
        guard case .object(let object) = value else { throw .invalidOpen("not a JSON object") }
        guard let sid = object["sid"]?.stringValue, !sid.isEmpty else { throw .invalidOpen("missing \"sid\"") }
        var upgrades: [String] = []
        if let list = object["upgrades"] {
            guard let array = list.arrayValue else { throw .invalidOpen("\"upgrades\" is not an array") }
            for element in array {
                guard let name = element.stringValue else { throw .invalidOpen("\"upgrades\" holds a non-string") }
                upgrades.append(name)
            }
        }
        func milliseconds(_ key: String, default fallback: Int?) throws(EngineIOError) -> Int {
            guard let field = object[key] else {
                if let fallback { return fallback }
                throw .invalidOpen("missing \"\(key)\"")
            }
            guard let n = field.intValue, n >= 0 else { throw .invalidOpen("\"\(key)\" is not a non-negative integer") }
            // Bounded like a JavaScript timer (2^31 - 1 ms, about 24.8 days): sums of these values
            // (the liveness deadline) must never overflow, whatever a server sends.
            guard n <= Int(Int32.max) else { throw .invalidOpen("\"\(key)\" is larger than 2147483647") }
            return n
        }
        self.init(sid: sid, upgrades: upgrades,
                  pingInterval: try milliseconds("pingInterval", default: nil),
                  pingTimeout: try milliseconds("pingTimeout", default: nil),
                  maxPayload: try milliseconds("maxPayload", default: EngineOpen.defaultMaxPayload))
    }

    /// The JSON object of the open packet, as a server sends it.
    public var json: JSONValue {
        .object(JSONObject([
            ("sid", .string(sid)), ("upgrades", .array(upgrades.map { .string($0) })),
            ("pingInterval", JSONValue(pingInterval)), ("pingTimeout", JSONValue(pingTimeout)),
            ("maxPayload", JSONValue(maxPayload)),
        ]))
    }
}

/// One Engine.IO v4 packet.
public enum EnginePacket: Sendable, Equatable {
    /// `0`: the handshake.
    case open(EngineOpen)
    /// `1`: the peer closes the session.
    case close
    /// `2`: a ping; the payload is empty or `probe` during an upgrade.
    case ping([UInt8])
    /// `3`: a pong echoing the ping's payload.
    case pong([UInt8])
    /// `4`: a text message; the bytes after the type byte (a Socket.IO packet).
    case message([UInt8])
    /// A binary message (a binary WebSocket frame, or `b`+base64 when polling).
    case binary([UInt8])
    /// `5`: the client switches to the probed transport.
    case upgrade
    /// `6`: no operation (used to end a pending poll during an upgrade).
    case noop

    /// The type byte of a text packet (`"0"`...`"6"`); `nil` for binary.
    public var typeByte: UInt8? {
        switch self {
        case .open: return UInt8(ascii: "0")
        case .close: return UInt8(ascii: "1")
        case .ping: return UInt8(ascii: "2")
        case .pong: return UInt8(ascii: "3")
        case .message: return UInt8(ascii: "4")
        case .binary: return nil
        case .upgrade: return UInt8(ascii: "5")
        case .noop: return UInt8(ascii: "6")
        }
    }
}
