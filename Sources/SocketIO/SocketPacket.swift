/// The seven Socket.IO v5 packet types.
public enum SocketPacketType: UInt8, Sendable, CaseIterable {
    /// `0`: join a namespace (client, with auth) or accept the join (server, with `sid`).
    case connect = 0
    /// `1`: leave a namespace.
    case disconnect
    /// `2`: an event: a JSON array whose first element is the name.
    case event
    /// `3`: the answer to an event that carried an ack id.
    case ack
    /// `4`: the server refuses the join.
    case connectError
    /// `5`: an event with binary attachments.
    case binaryEvent
    /// `6`: an ack with binary attachments.
    case binaryAck

    /// Whether packets of this type carry an attachment count.
    public var isBinary: Bool { self == .binaryEvent || self == .binaryAck }
}

/// One Socket.IO v5 packet: `<type>[<attachments>-][<nsp>,][<ackId>][JSON]`.
public struct SocketPacket: Sendable, Equatable {
    /// The packet type.
    public var type: SocketPacketType
    /// The namespace; `/` when the packet names none.
    public var namespace: String
    /// The acknowledgement id, if the sender wants (or this is) an acknowledgement.
    public var ackId: Int?
    /// The number of binary attachments that follow (binary types only; otherwise 0).
    public var attachments: Int
    /// The raw JSON payload bytes, exactly as received (validated by the decoder), or `nil`.
    public var payload: [UInt8]?

    /// Creates a packet.
    public init(type: SocketPacketType, namespace: String = "/", ackId: Int? = nil, attachments: Int = 0, payload: [UInt8]? = nil) {
        self.type = type
        self.namespace = namespace
        self.ackId = ackId
        self.attachments = attachments
        self.payload = payload
    }

    /// The event names Socket.IO reserves; an EVENT with one of these names is invalid.
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// Whether `name` is one of ``reservedEventNames`` (a few string compares instead of hashing
    /// the name: this runs for every event).
    public static func isReserved(_ name: String) -> Bool {
        switch name {
        case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener": true
        default: false
        }
    }

    /// The largest acknowledgement id accepted (2^53 - 1, JavaScript's largest safe integer).
    public static let maximumAckId = 9_007_199_254_740_991
}
