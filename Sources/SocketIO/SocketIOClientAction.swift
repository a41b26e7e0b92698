import JSON

/// The timers a ``SocketIOClientState`` asks its driver to arm.
public enum SocketIOTimer: Sendable, Hashable {
    /// The acknowledgement for this id is due.
    case ack(Int)
    /// The CONNECT reply is due.
    case connect
}

/// What the driver does on behalf of a ``SocketIOClientState``, in order.
public enum SocketIOClientAction: Sendable, Equatable {
    /// Send this Socket.IO packet text (wrap it in an Engine.IO message `4`).
    case send([UInt8])
    /// The namespace is joined; `recovered` when the server restored the previous session.
    case connected(sid: String, recovered: Bool)
    /// A server event: its name, its arguments (recovery offset removed), and the id to
    /// acknowledge it with, if the server asked for one.
    case event(name: String, args: SocketIOEventArguments, ackId: Int?)
    /// The server acknowledged emit `id` with this JSON array of arguments.
    case ack(id: Int, args: [UInt8])
    /// No acknowledgement for emit `id` arrived in time.
    case ackTimedOut(id: Int)
    /// Emit `id` will never be acknowledged: it was dropped from the buffer, or sent on a
    /// connection that is gone.
    case ackCancelled(id: Int)
    /// The server refused the join (CONNECT_ERROR): the message, and the `data` member if any.
    case connectError(message: String, data: JSONValue?)
    /// The CONNECT reply did not arrive in time: close the transport and reconnect.
    case connectTimedOut
    /// The session ended.
    case disconnected(DisconnectReason)
    /// Arm (or re-arm) a timer; call ``SocketIOClientState/timerFired(_:now:)`` when it fires.
    case armTimer(SocketIOTimer, deadline: MonotonicInstant)
}

/// What happened to one emit.
public struct SocketIOEmitResult: Sendable, Equatable {
    /// How the emit was handled.
    public enum Status: Sendable, Equatable {
        /// Connected: the packet is in ``actions`` as ``SocketIOClientAction/send(_:)``.
        case sent
        /// Not connected: queued, to be flushed in order after the next CONNECT reply.
        case buffered
        /// Not connected and the buffer is full under ``SocketIOClientState/BufferPolicy/refuseNewest``.
        case refused
    }

    /// How the emit was handled.
    public var status: Status
    /// The acknowledgement id assigned, if an ack was wanted (and the emit not refused).
    public var ackId: Int?
    /// The actions to perform (sends, timers, cancellations of dropped emits).
    public var actions: [SocketIOClientAction]
}

/// The arguments of a received event, left where they are in the received packet.
///
/// The hot path of the relay: the packet's JSON was validated and its elements located once by
/// the codec; this carries the packet bytes (shared, not copied) and where the arguments sit in
/// them, so neither a copy of the arguments nor a second scan is needed to reach the first one.
public struct SocketIOEventArguments: Sendable, Equatable {
    /// Holds the arguments (the packet text or its payload array, as received).
    private let storage: [UInt8]
    /// From the first argument's first byte to the last argument's last byte (what lies between
    /// them, separators and whitespace included, as received); empty when there are none.
    private let span: Range<Int>
    /// The first argument, without surrounding whitespace.
    private let firstRange: Range<Int>?
    /// The number of arguments.
    public let count: Int

    /// Arguments `elements` of `storage` (ranges of validated JSON values, in order).
    init(storage: [UInt8], elements: ArraySlice<Range<Int>>, shift: Int) {
        self.storage = storage
        count = elements.count
        if let first = elements.first, let last = elements.last {
            firstRange = (first.lowerBound + shift)..<(first.upperBound + shift)
            span = firstRange!.lowerBound..<(last.upperBound + shift)
        } else {
            firstRange = nil
            span = 0..<0
        }
    }

    /// The arguments of a JSON array, or `nil` when `json` is not one (for tests and tools).
    public init?(json: [UInt8]) {
        let scanned = json.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.arrayElements(raw) } }
        guard case .success(let elements) = scanned else { return nil }
        self.init(storage: json, elements: elements[...], shift: 0)
    }

    /// The arguments as a JSON array: `[` + the arguments as received + `]` (a copy).
    public var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(span.count + 2)
        out.append(UInt8(ascii: "["))
        out.append(contentsOf: storage[span])
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Calls `body` with the first argument's bytes (one JSON value), or an empty buffer when
    /// there is none. The buffer is valid only inside `body`.
    public func withFirst<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let firstRange else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return storage.withUnsafeBytes { raw in body(UnsafeRawBufferPointer(rebasing: raw[firstRange])) }
    }

    /// Equal when the arguments' bytes are (wherever they are stored).
    public static func == (a: Self, b: Self) -> Bool {
        a.count == b.count && a.storage[a.span].elementsEqual(b.storage[b.span])
    }
}
