import JSON

extension SocketIOClientState {
    /// Decodes and handles one Socket.IO packet text (the hot path: the JSON is scanned once).
    /// Binary packets are reassembled with the attachments passed to ``received(binary:now:)``.
    /// - Throws: the decoding error; the driver then closes the transport with
    ///   ``DisconnectReason/parseError(_:)``.
    public mutating func received(text: UnsafeRawBufferPointer, now: MonotonicInstant) throws(SocketIOError) -> [SocketIOClientAction] {
        let parts = try SocketIOCodec.decodeParts(text)
        let payload = parts.payloadStart.map { Array(UnsafeRawBufferPointer(rebasing: text[$0...])) }
        return try received(parts, payload: payload, storage: payload ?? [], shift: 0, now: now)
    }

    /// Decodes and handles one Socket.IO packet text held in an array (an Engine.IO message).
    /// Like ``received(text:now:)``, but an event delivered at once keeps its arguments in
    /// `message` itself (``SocketIOEventArguments`` shares the array): no copy of the payload.
    public mutating func received(message: [UInt8], now: MonotonicInstant) throws(SocketIOError) -> [SocketIOClientAction] {
        let decoded = message.withUnsafeBytes { raw in Result { () throws(SocketIOError) in try SocketIOCodec.decodeParts(raw) } }
        let parts = try decoded.get()
        guard let start = parts.payloadStart else { return try received(parts, payload: nil, storage: [], shift: 0, now: now) }
        if isDirectEvent(parts) { return try received(parts, payload: nil, storage: message, shift: start, now: now) }
        let payload = Array(message[start...])
        return try received(parts, payload: payload, storage: payload, shift: 0, now: now)
    }

    /// Whether a decoded packet is a plain event for a joined namespace, delivered at once
    /// (the common case, which needs no ``SocketPacket`` payload).
    private func isDirectEvent(_ parts: SocketIOCodec.Parts) -> Bool {
        guard parts.packet.type == .event, !reassembler.isReassembling, case .connected = phase else { return false }
        return parts.packet.namespace == configuration.namespace
    }

    /// Handles a decoded packet whose payload (if any) is `payload`, or for a direct event lies in
    /// `storage` from `shift` on.
    private mutating func received(_ parts: SocketIOCodec.Parts, payload: [UInt8]?, storage: [UInt8], shift: Int,
                                   now: MonotonicInstant) throws(SocketIOError) -> [SocketIOClientAction] {
        if isDirectEvent(parts), let name = parts.name {
            return deliver(name: name, storage: storage, shift: shift, elements: parts.elements, ackId: parts.packet.ackId).map { [$0] } ?? []
        }
        var packet = parts.packet
        packet.payload = payload
        if packet.type.isBinary || reassembler.isReassembling {
            guard let whole = try reassembler.receive(packet) else { return [] }
            return received(whole, now: now)
        }
        return handle(packet, elements: parts.elements, now: now)
    }

    /// Takes one binary attachment (an Engine.IO binary message).
    public mutating func received(binary: [UInt8], now: MonotonicInstant) throws(SocketIOError) -> [SocketIOClientAction] {
        guard let whole = try reassembler.receive(binary: binary) else { return [] }
        return received(whole, now: now)
    }

    /// Handles one decoded (and, if binary, reassembled) packet.
    public mutating func received(_ packet: SocketPacket, now: MonotonicInstant) -> [SocketIOClientAction] {
        var elements: [Range<Int>] = []
        switch packet.type {
        case .event, .ack, .binaryEvent, .binaryAck:
            guard let payload = packet.payload else { return [] }
            let scanned = payload.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONScanner.arrayElements(raw) } }
            guard case .success(let ranges) = scanned else { return [] }
            elements = ranges
        case .connect, .disconnect, .connectError:
            break
        }
        return handle(packet, elements: elements, now: now)
    }

    private mutating func handle(_ packet: SocketPacket, elements: [Range<Int>], now: MonotonicInstant) -> [SocketIOClientAction] {
        guard packet.namespace == configuration.namespace else { return [] }
        switch packet.type {
        case .event, .binaryEvent:
            switch phase {
            case .connected:
                return deliver(packet, elements: elements).map { [$0] } ?? []
            case .connecting:
                if held.count >= configuration.heldEventLimit {
                    held.removeFirst()
                    droppedHeldEvents += 1
                }
                held.append((packet, elements))
                return []
            case .disconnected:
                return []
            }
        case .ack, .binaryAck:
            guard let id = packet.ackId, pendingAcks.removeValue(forKey: id) != nil else { return [] }
            return [.ack(id: id, args: packet.payload ?? Array("[]".utf8))]
        case .connect:
            return connectReply(packet)
        case .connectError:
            guard phase != .disconnected else { return [] }
            phase = .disconnected
            connectDeadline = nil
            held = []
            let value = packet.payload.flatMap { try? JSONValue(parsing: $0) }
            switch value {
            case .string(let message)?:
                return [.connectError(message: message, data: nil)]
            case .object(let object)?:
                let message = object["message"]?.stringValue ?? JSONValue.object(object).serialized()
                return [.connectError(message: message, data: object["data"])]
            default:
                return [.connectError(message: "connection refused", data: value)]
            }
        case .disconnect:
            guard phase != .disconnected else { return [] }
            return end(.serverDisconnect)
        }
    }

    private mutating func connectReply(_ packet: SocketPacket) -> [SocketIOClientAction] {
        guard phase == .connecting else { return [] }
        let reply = packet.payload.flatMap { try? JSONValue(parsing: $0) }
        guard let sid = reply?["sid"]?.stringValue, !sid.isEmpty else {
            phase = .disconnected
            connectDeadline = nil
            held = []
            return [.connectError(message: "invalid CONNECT reply (no sid)", data: reply)]
        }
        let newPid = reply?["pid"]?.stringValue
        let recovered = sentPid != nil && newPid == sentPid
        if !recovered { offset = nil }
        pid = configuration.recovery ? newPid : nil
        phase = .connected(sid: sid)
        connectDeadline = nil
        var actions: [SocketIOClientAction] = [.connected(sid: sid, recovered: recovered)]
        let early = held
        held = []
        for (event, elements) in early {
            if let action = deliver(event, elements: elements) { actions.append(action) }
        }
        while bufferHead < buffer.count {
            let item = buffer[bufferHead]
            bufferHead += 1
            if let id = item.ackId, let entry = pendingAcks[id] { pendingAcks[id] = (entry.deadline, true) }
            actions.append(.send(item.bytes))
        }
        buffer = []
        bufferHead = 0
        return actions
    }

    /// Turns an EVENT into the action for the application.
    private mutating func deliver(_ packet: SocketPacket, elements: [Range<Int>]) -> SocketIOClientAction? {
        guard let payload = packet.payload, let nameRange = elements.first else { return nil }
        let name = payload.withUnsafeBytes { raw in JSONScanner.decodeString(UnsafeRawBufferPointer(rebasing: raw[nameRange])) }
        guard let name else { return nil }
        return deliver(name: name, storage: payload, shift: 0, elements: elements, ackId: packet.ackId)
    }

    /// Turns an EVENT into the action for the application, taking the recovery offset off it.
    /// `elements` are the payload array's (the name first), at `shift` in `storage`.
    private mutating func deliver(name: String, storage: [UInt8], shift: Int, elements: [Range<Int>], ackId: Int?) -> SocketIOClientAction? {
        guard !elements.isEmpty else { return nil }
        var argumentCount = elements.count - 1
        if configuration.recovery, pid != nil, ackId == nil, argumentCount >= 1, let last = elements.last {
            let newOffset = storage.withUnsafeBytes { raw in
                JSONScanner.decodeString(UnsafeRawBufferPointer(rebasing: raw[(last.lowerBound + shift)..<(last.upperBound + shift)]))
            }
            if let newOffset {
                offset = newOffset
                argumentCount -= 1
            }
        }
        let args = SocketIOEventArguments(storage: storage, elements: elements[1..<(1 + argumentCount)], shift: shift)
        return .event(name: name, args: args, ackId: ackId)
    }
}
