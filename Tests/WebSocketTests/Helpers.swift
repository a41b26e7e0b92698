@testable import WebSocket

/// How a test feeds bytes to a parser.
enum Feeding: CaseIterable, Sendable {
    case whole
    case dripFeed
    case chunksOf7
}

/// Feeds `bytes` to a fresh parser per `feeding` and collects every frame, calling `next()` after
/// each append until it returns nil.
func parseFrames(
    _ bytes: [UInt8],
    feeding: Feeding,
    maxFrameSize: Int = 16 << 20,
    expectMasked: Bool = false
) throws(WebSocketProtocolError) -> (frames: [WebSocketFrame], leftover: Int) {
    var parser = WebSocketFrameParser(maxFrameSize: maxFrameSize, expectMasked: expectMasked)
    var frames: [WebSocketFrame] = []
    let step: Int
    switch feeding {
    case .whole: step = max(1, bytes.count)
    case .dripFeed: step = 1
    case .chunksOf7: step = 7
    }
    var index = 0
    while index < bytes.count {
        let end = min(bytes.count, index + step)
        // Alternate between the two append overloads.
        if (index / step) % 2 == 0 {
            parser.append(Array(bytes[index..<end]))
        } else {
            bytes[index..<end].withUnsafeBytes { parser.append($0) }
        }
        while let frame = try parser.next() { frames.append(frame) }
        index = end
    }
    return (frames, parser.bufferedByteCount)
}

/// Encodes `frames` back to back.
func encodeFrames(_ frames: [WebSocketFrame], maskKey: (UInt8, UInt8, UInt8, UInt8)?) -> [UInt8] {
    var buffer: [UInt8] = []
    for frame in frames { WebSocketFrameEncoder.encode(frame, maskKey: maskKey, into: &buffer) }
    return buffer
}

/// The error a throwing parse produced, or nil.
func parseError(_ bytes: [UInt8], feeding: Feeding, maxFrameSize: Int = 16 << 20, expectMasked: Bool = false) -> WebSocketProtocolError? {
    do {
        _ = try parseFrames(bytes, feeding: feeding, maxFrameSize: maxFrameSize, expectMasked: expectMasked)
        return nil
    } catch {
        return error
    }
}

/// Deterministic pseudo-random bytes (xorshift), so tests need no system randomness.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    for _ in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes.append(UInt8(truncatingIfNeeded: state))
    }
    return bytes
}
