// libFuzzer entry for the Socket.IO codec, binary reassembly, the Socket.IO client state machine
// and the JSON parser/scanner underneath. Built by Tests/Fuzz/run.sh together with
// Sources/SocketIO/*.swift and Tests/Fuzz/Common/*.swift, against Sources/JSON compiled as its
// own module (not a SwiftPM target).
import JSON

/// Runs every check on the same input: `data` as one Socket.IO packet, as one JSON text, and
/// (split at `0x1E`) as the packets a connecting client receives.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    checkCodec(bytes)
    checkJSON(bytes)
    driveClient(bytes)
    return 0
}

// MARK: - Codec

/// `decode` and `decodeEvent` agree (on buffers and arrays); a decoded packet re-encodes to
/// text that decodes to the same packet and element ranges; binary packets go to reassembly.
private func checkCodec(_ bytes: UnsafeRawBufferPointer) {
    let event = Result { () throws(SocketIOError) in try SocketIOCodec.decodeEvent(bytes) }
    let plain = Result { () throws(SocketIOError) in try SocketIOCodec.decode(bytes) }
    guard plain == event.map({ $0.packet }) else { fuzzFailure("decode and decodeEvent disagree") }
    guard plain == Result(catching: { () throws(SocketIOError) in try SocketIOCodec.decode(Array(bytes)) }) else {
        fuzzFailure("decode gives different results for a buffer and an array")
    }
    guard case .success(let (packet, elements)) = event else { return }
    checkElements(packet, elements)

    let text = SocketIOCodec.encode(packet)
    let again = text.withUnsafeBytes { raw in Result { () throws(SocketIOError) in try SocketIOCodec.decodeEvent(raw) } }
    guard case .success(let (packet2, elements2)) = again else {
        fuzzFailure("re-encoded Socket.IO packet does not decode: \(again)")
    }
    guard packet2 == packet, elements2 == elements else {
        // A mismatch is a codec bug: crash so libFuzzer records the input.
        fuzzFailure("Socket.IO packet did not survive an encode/decode round trip")
    }
    if packet.type.isBinary { checkReassembly(packet, attachments: bytes) }
}

/// Event and ack element ranges are those of `JSONScanner.arrayElements` on the payload;
/// other packet types have none.
private func checkElements(_ packet: SocketPacket, _ elements: [Range<Int>]) {
    switch packet.type {
    case .event, .binaryEvent, .ack, .binaryAck:
        guard let payload = packet.payload,
              let scanned = payload.withUnsafeBytes({ raw in try? JSONScanner.arrayElements(raw) }), scanned == elements else {
            fuzzFailure("decodeEvent element ranges differ from arrayElements on the payload")
        }
        if packet.type == .event || packet.type == .binaryEvent {
            guard let first = elements.first,
                  let name = payload.withUnsafeBytes({ JSONScanner.decodeString(UnsafeRawBufferPointer(rebasing: $0[first])) }),
                  !SocketPacket.reservedEventNames.contains(name) else {
                fuzzFailure("an event without a valid, unreserved name was accepted")
            }
        }
    case .connect, .disconnect, .connectError:
        guard elements.isEmpty else { fuzzFailure("element ranges for a \(packet.type) packet") }
    }
}

// MARK: - Binary reassembly

/// Feeds the header and `attachments` split into as many chunks as announced; the result must
/// be the plain packet with every placeholder replaced by the base64 of its chunk.
private func checkReassembly(_ header: SocketPacket, attachments: UnsafeRawBufferPointer) {
    var reassembler = BinaryReassembler()
    let first = Result { () throws(SocketIOError) in try reassembler.receive(header) }
    var result: Result<SocketPacket?, SocketIOError> = first
    var chunks: [[UInt8]] = []
    if case .success(nil) = first {
        guard header.attachments > 0, reassembler.isReassembling else { fuzzFailure("reassembler waits for no attachments") }
        let k = header.attachments
        for i in 0..<k {
            let chunk = Array(attachments[(i * attachments.count / k)..<((i + 1) * attachments.count / k)])
            chunks.append(chunk)
            result = Result { () throws(SocketIOError) in try reassembler.receive(binary: chunk) }
            if i < k - 1, result != .success(nil) { fuzzFailure("reassembler finished before the last attachment") }
        }
    }
    guard !reassembler.isReassembling else { fuzzFailure("reassembler still waiting after all attachments") }
    guard case .failure(.unexpectedBinary) = Result(catching: { () throws(SocketIOError) in try reassembler.receive(binary: []) }) else {
        fuzzFailure("an idle reassembler accepted a binary attachment")
    }
    switch result {
    case .success(let whole?):
        guard whole.type == (header.type == .binaryEvent ? .event : .ack), whole.attachments == 0,
              whole.namespace == header.namespace, whole.ackId == header.ackId,
              let original = header.payload.flatMap({ try? JSONValue(parsing: $0) }),
              let rebuilt = whole.payload.flatMap({ try? JSONValue(parsing: $0) }),
              substituted(original, rebuilt, chunks) else {
            fuzzFailure("reassembled packet does not match its header and attachments")
        }
    case .success(nil):
        fuzzFailure("reassembler gave nothing after all attachments")
    case .failure(.invalidJSON(let error)):
        // The decoder validated this payload with the scanner; the value parser must agree.
        fuzzFailure("reassembler could not parse a payload the scanner accepted: \(error)")
    case .failure(.tooManyAttachments(let n)):
        guard n == header.attachments, n > reassembler.maximumAttachments else { fuzzFailure("tooManyAttachments(\(n)) wrongly") }
    case .failure(.invalidPlaceholder):
        break
    case .failure(let error):
        fuzzFailure("unexpected reassembly error \(error)")
    }
}

/// Whether `rebuilt` is `original` with each `{"_placeholder":true,"num":N}` replaced by a
/// `{"_binary":…}` object holding chunk N.
private func substituted(_ original: JSONValue, _ rebuilt: JSONValue, _ chunks: [[UInt8]]) -> Bool {
    switch (original, rebuilt) {
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { substituted($0, $1, chunks) }
    case (.object(let a), _) where a["_placeholder"] == .bool(true):
        guard let n = a["num"]?.intValue, chunks.indices.contains(n) else { return false }
        return BinaryReassembler.binaryBytes(of: rebuilt) == chunks[n]
    case (.object(let a), .object(let b)):
        return a.keys == b.keys && zip(a.values, b.values).allSatisfy { substituted($0, $1, chunks) }
    default:
        return original == rebuilt
    }
}

// MARK: - JSON

/// The value parser, the validator and the array scanner accept exactly the same inputs; an
/// accepted value serializes to text that parses back to an equal value and serializes identically.
private func checkJSON(_ bytes: UnsafeRawBufferPointer) {
    let parsed = Result { () throws(JSONError) in try JSONValue(parsing: bytes) }
    guard parsed == Result(catching: { () throws(JSONError) in try JSONValue(parsing: Array(bytes)) }) else {
        fuzzFailure("JSONValue(parsing:) gives different results for a buffer and an array")
    }
    if let string = String(validating: bytes, as: UTF8.self),
       parsed != Result(catching: { () throws(JSONError) in try JSONValue(parsing: string) }) {
        fuzzFailure("JSONValue(parsing:) gives different results for bytes and a String")
    }

    let validated = Result { () throws(JSONError) in try JSONScanner.validate(bytes) }
    let elements = Result { () throws(JSONError) in try JSONScanner.arrayElements(bytes) }
    switch parsed {
    case .failure:
        guard case .failure = validated else { fuzzFailure("JSONScanner.validate accepted what the parser rejects") }
        guard case .failure = elements else { fuzzFailure("JSONScanner.arrayElements accepted what the parser rejects") }
    case .success(let value):
        guard case .success(let kind) = validated, kindMatches(kind, value) else {
            fuzzFailure("JSONScanner.validate rejected (or mistyped) what the parser accepts")
        }
        switch (value, elements) {
        case (.array(let array), .success(let ranges)):
            guard array.count == ranges.count else { fuzzFailure("arrayElements found \(ranges.count) elements, the parser \(array.count)") }
            for (element, range) in zip(array, ranges) {
                guard (try? JSONValue(parsing: UnsafeRawBufferPointer(rebasing: bytes[range]))) == element else {
                    fuzzFailure("an arrayElements range does not hold the parsed element")
                }
            }
        case (.array, .failure(let error)):
            fuzzFailure("JSONScanner.arrayElements rejected an array the parser accepts: \(error)")
        case (_, .success):
            fuzzFailure("JSONScanner.arrayElements accepted a non-array")
        case (_, .failure(let error)):
            guard case .unexpectedType = error else { fuzzFailure("arrayElements on a valid non-array threw \(error)") }
        }
        if case .string(let s) = value, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\""),
           JSONScanner.decodeString(bytes) != s {
            fuzzFailure("JSONScanner.decodeString disagrees with the parser")
        }

        var text: [UInt8] = []
        value.serialize(into: &text)
        guard let again = try? JSONValue(parsing: text), again == value else {
            fuzzFailure("JSON value did not survive a serialize/parse round trip")
        }
        var text2: [UInt8] = []
        again.serialize(into: &text2)
        guard text2 == text else { fuzzFailure("serialization is not stable across a round trip") }
    }
}

private func kindMatches(_ kind: UInt8, _ value: JSONValue) -> Bool {
    switch value {
    case .object: return kind == UInt8(ascii: "{")
    case .array: return kind == UInt8(ascii: "[")
    case .string: return kind == UInt8(ascii: "\"")
    case .bool(let b): return kind == (b ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    case .null: return kind == UInt8(ascii: "n")
    case .number: return kind == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(kind)
    }
}

// MARK: - Client state machine

/// A client with one buffered emit (wanting ack 0) opens its transport, then receives the
/// `0x1E`-separated segments of `bytes` (a segment starting with `b` is a binary attachment),
/// as text, reconnecting like the driver whenever the namespace is left (a parse error closes
/// the transport first); the clock advances by an
/// amount taken from each segment, and due timers fire. Every action is checked.
private func driveClient(_ bytes: UnsafeRawBufferPointer) {
    var configuration = SocketIOClientState.Configuration(namespace: "/", recovery: true)
    configuration.heldEventLimit = 8
    var client = SocketIOClientState(configuration: configuration)
    let open = EngineOpen(sid: "fuzz-sid", upgrades: ["websocket"], pingInterval: 25_000, pingTimeout: 20_000)
    let auth: JSONObject = ["token": "fuzz-token"]
    var now = MonotonicInstant.milliseconds(0)

    let emitted = client.emit("hello", args: ["world", 1], wantsAck: true, now: now)
    guard emitted.status == .buffered, emitted.ackId == 0 else { fuzzFailure("first emit not buffered with ack 0") }
    check(&client, emitted.actions, now: now)
    check(&client, client.transportOpened(open, auth: auth, now: now), now: now)

    var start = 0
    while start <= bytes.count {
        var end = start
        while end < bytes.count, bytes[end] != 0x1E { end += 1 }
        let segment = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        now = now.advanced(byMilliseconds: Int(segment.last ?? 0) * 100)
        let received: Result<[SocketIOClientAction], SocketIOError>
        if segment.first == UInt8(ascii: "b") {
            let attachment = Array(segment.dropFirst())
            received = Result { () throws(SocketIOError) in try client.received(binary: attachment, now: now) }
        } else {
            // The array entry point (no payload copy for events delivered at once) must behave
            // exactly like the buffer one.
            var twin = client
            let message = Array(segment)
            let viaMessage = Result { () throws(SocketIOError) in try twin.received(message: message, now: now) }
            received = Result { () throws(SocketIOError) in try client.received(text: segment, now: now) }
            guard viaMessage == received, twin.phase == client.phase, twin.offset == client.offset, twin.pid == client.pid else {
                fuzzFailure("received(message:) and received(text:) disagree")
            }
        }
        switch received {
        case .success(let actions):
            check(&client, actions, now: now)
        case .failure(let error):
            // The driver closes the transport with a parse error and reconnects.
            check(&client, client.transportClosed(.parseError(error.description)), now: now)
            guard client.phase == .disconnected else { fuzzFailure("still joined after transportClosed") }
        }
        check(&client, client.timerFired(.connect, now: now), now: now)
        check(&client, client.expireAcks(now: now), now: now)
        if client.phase == .disconnected {
            // Refused, timed out, disconnected by the server or a parse error: reconnect.
            check(&client, client.transportOpened(open, auth: auth, now: now), now: now)
        }
        if case .connected = client.phase {
            let result = client.emit("tick", rawArgs: Array("[1]".utf8), wantsAck: segment.count & 1 == 1, now: now)
            guard result.status == .sent else { fuzzFailure("emit while connected was not sent") }
            check(&client, result.actions, now: now)
        }
        start = end + 1
    }
    check(&client, client.disconnect(), now: now)
    guard client.phase == .disconnected else { fuzzFailure("still joined after disconnect()") }
}

/// Checks each action against the protocol and the state it leaves behind.
private func check(_ client: inout SocketIOClientState, _ actions: [SocketIOClientAction], now: MonotonicInstant) {
    for action in actions {
        switch action {
        case .send(let bytes):
            // The client only ever sends packets a server can decode.
            guard let packet = try? SocketIOCodec.decode(bytes), packet.namespace == client.configuration.namespace else {
                fuzzFailure("the client sent an undecodable packet: \(String(decoding: bytes, as: UTF8.self))")
            }
        case .connected(let sid, _):
            guard !sid.isEmpty, client.phase == .connected(sid: sid) else { fuzzFailure("connected action but phase \(client.phase)") }
        case .event(let name, let args, let ackId):
            guard !SocketPacket.reservedEventNames.contains(name), isArray(args.json) else {
                fuzzFailure("event \(name) delivered with arguments that are not a JSON array")
            }
            if let ackId {
                for answer in client.acknowledge(id: ackId, args: [.string(name)]) {
                    guard case .send(let bytes) = answer, let packet = try? SocketIOCodec.decode(bytes),
                          packet.type == .ack, packet.ackId == ackId else {
                        fuzzFailure("acknowledge produced a bad ACK packet")
                    }
                }
            }
        case .ack(let id, let args):
            guard !client.pendingAckIds.contains(id), isArray(args) else { fuzzFailure("ack \(id) delivered twice or not an array") }
        case .ackTimedOut(let id), .ackCancelled(let id):
            guard !client.pendingAckIds.contains(id) else { fuzzFailure("ack \(id) ended but still pending") }
        case .connectError, .connectTimedOut, .disconnected:
            guard client.phase == .disconnected else { fuzzFailure("\(action) but phase \(client.phase)") }
        case .armTimer(_, let deadline):
            guard deadline > now else { fuzzFailure("timer armed in the past") }
        }
    }
}

private func isArray(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in (try? JSONScanner.arrayElements(raw)) != nil }
}
