// The floor of the benchmark: our own WebSocket layer (Sources/WebSocket: frame parser and
// connection state, including UTF-8 validation) reading the firehose's frames from a blocking
// socket and discarding them. Everything mojo-bridge spends above this is the cost of Engine.IO,
// Socket.IO, the relay and the output.
//
// Built by Tests/Bench/run:
//   swiftc -O -parse-as-library -module-name Floor Tests/Bench/floor.swift Sources/WebSocket/*.swift
// Usage: floor PORT N   connects to 127.0.0.1:PORT, does the Engine.IO/Socket.IO handshake
// (`40{...}`), answers pings, and prints `count <N> <monotonic ns>` each time N more `42` messages
// have arrived. Ends at EOF.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@main
struct Floor {
    static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n <= 0 { exit(1) }
            off += n
        }
    }

    static func say(_ s: String) {
        writeAll(1, Array((s + "\n").utf8))
    }

    static func sendText(_ fd: Int32, _ text: String) {
        var out: [UInt8] = []
        WebSocketFrameEncoder.encode(opcode: .text, payload: Array(text.utf8), maskKey: (1, 2, 3, 4), into: &out)
        writeAll(fd, out)
    }

    static func main() {
        let args = CommandLine.arguments
        guard args.count == 3, let port = UInt16(args[1]), let every = Int(args[2]), every > 0 else {
            say("usage: floor PORT N"); exit(64)
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { say("connect failed"); exit(69) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        writeAll(fd, Array(("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n").utf8))

        var parser = WebSocketFrameParser()
        var state = WebSocketConnectionState()
        var head: [UInt8] = []
        var upgraded = false
        var count = 0
        let size = 256 * 1024
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        while true {
            let n = read(fd, buffer.baseAddress!, size)
            if n <= 0 { break }
            var chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if !upgraded {
                head.append(contentsOf: chunk)
                guard let end = find(head, [13, 10, 13, 10]) else { continue }
                upgraded = true
                let rest = Array(head[(end + 4)...])
                head = []
                rest.withUnsafeBytes { parser.append($0) }
                chunk = UnsafeRawBufferPointer(start: nil, count: 0)
            } else {
                parser.append(chunk)
            }
            do {
                while let frame = try parser.next() {
                    switch state.receive(frame) {
                    case .text(let text):
                        let utf8 = text.utf8
                        let first = utf8.first
                        if first == UInt8(ascii: "4"), utf8.dropFirst().first == UInt8(ascii: "2") {
                            count += 1
                            if count % every == 0 { say("count \(count) \(monotonicNs())") }
                        } else if first == UInt8(ascii: "0") {
                            sendText(fd, #"40{"token":"x","tenantId":"floor"}"#)
                        } else if first == UInt8(ascii: "2") {
                            sendText(fd, "3")
                        }
                    case .sendClose, .closed, .protocolError:
                        exit(0)
                    default:
                        break
                    }
                }
            } catch {
                say("protocol error \(error)"); exit(65)
            }
        }
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}
