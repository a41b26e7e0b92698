import SocketIO

// Typed-throws adapters between byte containers and the codecs' buffer-pointer entry points
// (a `throws(E)` inside `withUnsafeBytes` would widen to `any Error`).

extension SocketIOClientState {
    /// Feeds a received Socket.IO text packet.
    mutating func received(packet bytes: [UInt8], now: MonotonicInstant) -> Result<[SocketIOClientAction], SocketIOError> {
        bytes.withUnsafeBytes { raw in
            do throws(SocketIOError) { return .success(try received(text: raw, now: now)) } catch { return .failure(error) }
        }
    }
}

extension EngineIOCodec {
    /// Decodes one Engine.IO packet from a WebSocket text message without copying it.
    static func decode(text: String) -> Result<EnginePacket, EngineIOError> {
        var text = text
        return text.withUTF8 { buf in
            do throws(EngineIOError) { return .success(try decodeText(UnsafeRawBufferPointer(buf))) } catch { return .failure(error) }
        }
    }
}
