// libFuzzer entry for the WebSocket frame parser and connection state machine.
// Built by Tests/Fuzz/run.sh together with Sources/WebSocket/*.swift and Tests/Fuzz/Common/*.swift
// (not a SwiftPM target).

/// Feeds `data` to a client-side frame parser in two chunks (split at `data[0] % size`) and every
/// parsed frame to a connection state; re-encodes each frame and checks it parses back identically.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let split = Int(data[0]) % size
    var parser = WebSocketFrameParser(maxFrameSize: 1 << 16)
    var state = WebSocketConnectionState(maxMessageSize: 1 << 17)
    for chunk in [UnsafeRawBufferPointer(rebasing: bytes[0..<split]), UnsafeRawBufferPointer(rebasing: bytes[split...])] {
        parser.append(chunk)
        while true {
            let frame: WebSocketFrame?
            do {
                frame = try parser.next()
            } catch {
                _ = error.closeCode
                return 0
            }
            guard let frame else { break }
            roundTrip(frame)
            switch state.receive(frame) {
            case .protocolError: return 0
            default: break
            }
        }
    }
    return 0
}

/// Encoding a parsed frame (masked, as a client would) must parse back to the same frame.
private func roundTrip(_ frame: WebSocketFrame) {
    var encoded: [UInt8] = []
    WebSocketFrameEncoder.encode(frame, maskKey: (0xA1, 0xB2, 0xC3, 0xD4), into: &encoded)
    var serverSide = WebSocketFrameParser(maxFrameSize: 1 << 16, expectMasked: true)
    serverSide.append(encoded)
    let again = try? serverSide.next()
    if again != frame || serverSide.bufferedByteCount != 0 {
        // A mismatch is a codec bug: crash so libFuzzer records the input.
        fuzzFailure("frame did not survive an encode/parse round trip")
    }
}
