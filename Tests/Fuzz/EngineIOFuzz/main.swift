// libFuzzer entry for the Engine.IO codec and the Engine.IO client state machine.
// Built by Tests/Fuzz/run.sh together with Sources/SocketIO/*.swift and Tests/Fuzz/Common/*.swift,
// against Sources/JSON compiled as its own module (not a SwiftPM target).
import JSON

/// Decodes `data` as one WebSocket text frame, as one polling payload and as one binary frame;
/// every decoded packet must survive an encode/decode round trip, and all of them (in that
/// order) are fed to a client state machine whose clock advances by amounts taken from `data`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var packets: [EnginePacket] = []

    let text = Result { () throws(EngineIOError) in try EngineIOCodec.decodeText(bytes) }
    if text != Result(catching: { () throws(EngineIOError) in try EngineIOCodec.decodeText(Array(bytes)) }) {
        fuzzFailure("decodeText gives different results for a buffer and an array")
    }
    if case .success(let packet) = text {
        roundTrip(packet)
        packets.append(packet)
    }

    let payload = Result { () throws(EngineIOError) in try EngineIOCodec.decodePayload(bytes) }
    if payload != Result(catching: { () throws(EngineIOError) in try EngineIOCodec.decodePayload(Array(bytes)) }) {
        fuzzFailure("decodePayload gives different results for a buffer and an array")
    }
    if case .success(let decoded) = payload {
        roundTripPayload(decoded)
        for packet in decoded { roundTrip(packet) }
        packets += decoded
    }

    let binary = EngineIOCodec.decodeBinary(Array(bytes))
    guard binary == .binary(Array(bytes)) else { fuzzFailure("decodeBinary changed the frame") }
    roundTrip(binary)
    packets.append(binary)

    drive(packets, clock: bytes)
    return 0
}

/// A packet encoded as a WebSocket frame must decode back to itself, `encodedSize` must be the
/// encoded length, and (when the frame holds no record separator) the packet alone must also
/// survive the polling payload encoding.
private func roundTrip(_ packet: EnginePacket) {
    var frame: [UInt8] = []
    let isBinary = EngineIOCodec.encode(packet, into: &frame)
    guard isBinary == (packet.typeByte == nil) else {
        fuzzFailure("encode reports binary=\(isBinary) for a \(packet.kindName) packet")
    }
    guard frame.count == EngineIOCodec.encodedSize(packet) else {
        fuzzFailure("encodedSize (\(EngineIOCodec.encodedSize(packet))) != encoded length (\(frame.count)) for \(packet.kindName)")
    }
    let again: EnginePacket? = isBinary ? EngineIOCodec.decodeBinary(frame) : try? EngineIOCodec.decodeText(frame)
    guard again == packet else {
        // A mismatch is a codec bug: crash so libFuzzer records the input.
        fuzzFailure("Engine.IO \(packet.kindName) packet did not survive an encode/decode round trip")
    }
    if isBinary || !frame.contains(EngineIOCodec.recordSeparator) {
        roundTripPayload([packet])
    }
}

/// Packets encoded as a polling payload must decode back to the same packets.
private func roundTripPayload(_ packets: [EnginePacket]) {
    var body: [UInt8] = []
    EngineIOCodec.encodePayload(packets, into: &body)
    let again = try? EngineIOCodec.decodePayload(body)
    guard again == packets else {
        fuzzFailure("polling payload of \(packets.count) packet(s) did not survive an encode/decode round trip")
    }
}

/// Feeds `packets` to a polling client state, checking liveness before each one, answering as
/// a driver would (pongs and echoed messages go through `send`), and running the upgrade flow
/// when the handshake offers it. Every verdict is checked against the state it leaves behind.
private func drive(_ packets: [EnginePacket], clock: UnsafeRawBufferPointer) {
    var now = MonotonicInstant.milliseconds(0)
    var state = EngineIOClientState(transport: .polling, now: now, handshakeTimeout: 20_000)
    var probing = false
    for (i, packet) in packets.enumerated() {
        // Advance 0...63.75 s, so some inputs outlive pingInterval + pingTimeout.
        let tick = clock.isEmpty ? 0 : Int(clock[i % clock.count])
        now = now.advanced(byMilliseconds: tick * 250)
        checkLiveness(&state, now: now)

        if probing, tick & 1 == 1 {
            // Route this packet to the probe transport instead.
            switch state.receivedOnProbe(packet, now: now) {
            case .pausePolling:
                switch state.pollingPaused() {
                case .sendUpgrade(let upgrade):
                    guard upgrade == .upgrade, state.transport == .websocket else {
                        fuzzFailure("upgrade completed without switching to websocket")
                    }
                case .failed:
                    guard state.isClosed else { fuzzFailure("pollingPaused failed on an open session") }
                default: fuzzFailure("pollingPaused returned an unexpected action")
                }
                probing = false
            case .failed: probing = false
            default: fuzzFailure("receivedOnProbe returned an unexpected action")
            }
            continue
        }

        let wasClosed = state.isClosed
        let action = state.received(packet, now: now)
        if wasClosed, action != .none { fuzzFailure("a closed session reacted to \(packet.kindName)") }
        switch action {
        case .opened(let open):
            guard state.handshake == open, !state.isClosed else { fuzzFailure("opened but no handshake kept") }
            if state.canUpgrade {
                guard case .sendProbe(.ping(let probe)) = state.startUpgrade(), probe == Array("probe".utf8) else {
                    fuzzFailure("startUpgrade did not give a 2probe")
                }
                probing = true
            }
        case .send(let reply):
            guard case .ping(let payload) = packet, reply == .pong(payload) else { fuzzFailure("reply is not the pong for a ping") }
            checkSend(&state, reply, now: now)
        case .message(let bytes):
            checkSend(&state, .message(bytes), now: now)
        case .binary(let bytes):
            checkSend(&state, .binary(bytes), now: now)
        case .closed, .protocolError:
            guard state.isClosed, state.deadline == nil else { fuzzFailure("session not closed after \(action)") }
        case .none:
            break
        }
    }
    let wasOpen = state.handshake != nil
    let goodbye = state.close()
    guard state.isClosed, (goodbye == .close) == wasOpen else { fuzzFailure("close() disagrees with the phase") }
    guard case .refused(.notOpen) = state.send(.noop, now: now) else { fuzzFailure("a closed session accepted a send") }
}

private func checkLiveness(_ state: inout EngineIOClientState, now: MonotonicInstant) {
    let deadline = state.deadline
    switch state.checkLiveness(now: now) {
    case .alive(let until):
        guard until == deadline, until > now, !state.isClosed else { fuzzFailure("alive verdict inconsistent with the deadline") }
    case .dead:
        guard state.isClosed, state.deadline == nil else { fuzzFailure("dead verdict left the session open") }
    }
}

private func checkSend(_ state: inout EngineIOClientState, _ packet: EnginePacket, now: MonotonicInstant) {
    switch state.send(packet, now: now) {
    case .send(let out):
        guard out == packet, let open = state.handshake, EngineIOCodec.encodedSize(out) <= open.maxPayload else {
            fuzzFailure("send let through a packet beyond maxPayload or outside an open session")
        }
    case .refused(.payloadTooLarge(let size, let maxPayload)):
        guard size == EngineIOCodec.encodedSize(packet), size > maxPayload else { fuzzFailure("payloadTooLarge with size \(size) <= \(maxPayload)") }
    case .refused(.notOpen):
        guard state.handshake == nil else { fuzzFailure("send refused as not open on an open session") }
    case .refused(let error):
        fuzzFailure("send refused with an unexpected error: \(error)")
    case .dead:
        guard state.isClosed else { fuzzFailure("send reported dead but the session is open") }
    }
}
