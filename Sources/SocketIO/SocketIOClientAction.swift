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
    /// A server event: its name, the JSON array of its arguments (recovery offset removed),
    /// and the id to acknowledge it with, if the server asked for one.
    case event(name: String, args: [UInt8], ackId: Int?)
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
