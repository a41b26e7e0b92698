import SocketIO

// Typed-throws adapters between byte containers and the codecs' buffer-pointer entry points
// (a `throws(E)` inside `withUnsafeBytes` would widen to `any Error`).

extension EngineIOCodec {
    /// Decodes one Engine.IO packet from a WebSocket text message without copying it.
    static func decode(text: String) -> Result<EnginePacket, EngineIOError> {
        var text = text
        return text.withUTF8 { buf in
            do throws(EngineIOError) { return .success(try decodeText(UnsafeRawBufferPointer(buf))) } catch { return .failure(error) }
        }
    }
}
