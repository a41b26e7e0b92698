import JSON

extension SocketIOClientState {
    /// Emits `event` with arguments built as values. See ``emit(_:rawArgs:wantsAck:now:)``.
    public mutating func emit(_ event: String, args: [JSONValue], wantsAck: Bool = false, now: MonotonicInstant) -> SocketIOEmitResult {
        var payload: [UInt8] = [UInt8(ascii: "[")]
        JSONScanner.appendEscaped(event, into: &payload)
        for arg in args {
            payload.append(UInt8(ascii: ","))
            arg.serialize(into: &payload)
        }
        payload.append(UInt8(ascii: "]"))
        return emit(event, payload: payload, wantsAck: wantsAck, now: now)
    }

    /// Emits `event` with its arguments given as the bytes of a JSON array (`[{"a":1}]`).
    ///
    /// Connected: the packet goes out now. Otherwise it is buffered (see the buffer policy) and
    /// flushed in order after the next CONNECT reply. An ack id is assigned (counting from 0)
    /// only when `wantsAck`; its timeout runs from now, buffered or not, as in socket.io-client.
    /// A reserved event name or malformed `rawArgs` gives ``SocketIOEmitResult/Status/refused``
    /// with no actions.
    public mutating func emit(_ event: String, rawArgs: [UInt8], wantsAck: Bool = false, now: MonotonicInstant) -> SocketIOEmitResult {
        let scanned = rawArgs.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.arrayElements(raw) } }
        guard case .success(let elements) = scanned else { return SocketIOEmitResult(status: .refused, ackId: nil, actions: []) }
        var payload: [UInt8] = [UInt8(ascii: "[")]
        JSONScanner.appendEscaped(event, into: &payload)
        if let first = elements.first, let last = elements.last {
            payload.append(UInt8(ascii: ","))
            payload.append(contentsOf: rawArgs[first.lowerBound..<last.upperBound])
        }
        payload.append(UInt8(ascii: "]"))
        return emit(event, payload: payload, wantsAck: wantsAck, now: now)
    }

    private mutating func emit(_ event: String, payload: [UInt8], wantsAck: Bool, now: MonotonicInstant) -> SocketIOEmitResult {
        guard !SocketPacket.reservedEventNames.contains(event) else {
            return SocketIOEmitResult(status: .refused, ackId: nil, actions: [])
        }
        var actions: [SocketIOClientAction] = []
        let connected: Bool
        if case .connected = phase { connected = true } else { connected = false }
        if !connected, bufferedCount >= configuration.bufferLimit {
            switch configuration.bufferPolicy {
            case .refuseNewest:
                return SocketIOEmitResult(status: .refused, ackId: nil, actions: [])
            case .dropOldest:
                guard bufferedCount > 0 else { return SocketIOEmitResult(status: .refused, ackId: nil, actions: []) }
                let dropped = buffer[bufferHead]
                bufferHead += 1
                droppedEmits += 1
                if let id = dropped.ackId, pendingAcks.removeValue(forKey: id) != nil { actions.append(.ackCancelled(id: id)) }
                if bufferHead > 64, bufferHead * 2 > buffer.count {
                    buffer.removeFirst(bufferHead)
                    bufferHead = 0
                }
            }
        }
        var ackId: Int? = nil
        if wantsAck {
            ackId = nextAckId
            nextAckId = nextAckId < SocketPacket.maximumAckId ? nextAckId + 1 : 0
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count + configuration.namespace.utf8.count + 8)
        SocketIOCodec.encode(SocketPacket(type: .event, namespace: configuration.namespace, ackId: ackId), into: &bytes)
        bytes.append(contentsOf: payload)
        if let ackId {
            let deadline = configuration.ackTimeout.map { now.advanced(byMilliseconds: $0) }
            pendingAcks[ackId] = (deadline, connected)
            if let deadline { actions.append(.armTimer(.ack(ackId), deadline: deadline)) }
        }
        if connected {
            actions.insert(.send(bytes), at: 0)
            return SocketIOEmitResult(status: .sent, ackId: ackId, actions: actions)
        }
        buffer.append(Buffered(bytes: bytes, ackId: ackId))
        return SocketIOEmitResult(status: .buffered, ackId: ackId, actions: actions)
    }

    /// Answers server event `id` (which carried an ack id) with `args`; nothing unless connected.
    public func acknowledge(id: Int, args: [JSONValue]) -> [SocketIOClientAction] {
        guard case .connected = phase else { return [] }
        var bytes: [UInt8] = []
        SocketIOCodec.encode(SocketPacket(type: .ack, namespace: configuration.namespace, ackId: id), into: &bytes)
        JSONValue.array(args).serialize(into: &bytes)
        return [.send(bytes)]
    }
}
