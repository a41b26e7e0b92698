import COpenSSL
import Glibc

extension ByteStream {
    /// Readiness on the socket, dispatched by state.
    func handleEvent(readable: Bool, writable: Bool, hangup: Bool) {
        switch state {
        case .resolving, .closed:
            return
        case .connecting:
            finishConnect()
        case .proxying:
            readProxyResponse()
        case .handshaking:
            continueHandshake()
        case .open, .closing:
            if hangup || (!isReadingPaused && (readable || (writable && tlsReadWantsWrite))) {
                readAvailable(ignoringPause: hangup)
            }
            if state == .open || state == .closing,
               !writeBuffer.isEmpty, writable || (readable && tlsWriteWantsRead) || hangup {
                flush()
            }
        }
    }

    /// Reads what is available into the shared buffer and hands it to the delegate.
    func readAvailable(ignoringPause: Bool = false) {
        // TLS records are at most 16 KiB, smaller than the buffer: anything OpenSSL holds back
        // is still in the socket, so level-triggered epoll fires again after this bound.
        for _ in 0..<8 {
            guard state == .open || state == .closing else { return }
            // Paused by the delegate during the previous read: stop here (tight backpressure).
            guard ignoringPause || !isReadingPaused else { return }
            let count: Int
            if let tls {
                switch tls.read(into: readBuffer) {
                case .done(let n):
                    tlsReadWantsWrite = false
                    count = n
                case .wantRead:
                    if tlsReadWantsWrite { tlsReadWantsWrite = false; updateInterest() }
                    return
                case .wantWrite:
                    tlsReadWantsWrite = true
                    updateInterest()
                    return
                case .closed:
                    teardown(error: nil)
                    return
                case .failed(let kind, let message):
                    fail(kind, message)
                    return
                }
            } else {
                let socket = fd
                let buffer = readBuffer
                do {
                    switch try syscallAllowingWouldBlock("recv", { recv(socket, buffer.baseAddress, buffer.count, 0) }) {
                    case .wouldBlock:
                        return
                    case .processed(let n):
                        count = n
                    }
                } catch let error as IOError {
                    teardown(error: TransportError(error, peer: peerDescription))
                    return
                } catch {
                    return
                }
                if count == 0 {
                    teardown(error: nil)
                    return
                }
            }
            delegate?.stream(self, didRead: UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        }
    }

    /// Writes a prefix of `bytes` now; `nil` if the stream failed (already torn down).
    func writeSome(_ bytes: UnsafeRawBufferPointer) -> Int? {
        if let tls {
            switch tls.write(bytes) {
            case .done(let n):
                tlsWriteWantsRead = false
                return n
            case .wantWrite:
                return 0
            case .wantRead:
                tlsWriteWantsRead = true
                return 0
            case .closed:
                fail(.closedByPeer, "TLS session closed by the peer")
                return nil
            case .failed(let kind, let message):
                fail(kind, message)
                return nil
            }
        }
        let socket = fd
        do {
            switch try syscallAllowingWouldBlock("send", { send(socket, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }) {
            case .processed(let n): return n
            case .wouldBlock: return 0
            }
        } catch let error as IOError {
            teardown(error: TransportError(error, peer: peerDescription))
        } catch {
            fail(.io, "\(error)")
        }
        return nil
    }

    /// Sends buffered bytes until the socket would block or the buffer is empty.
    func flush() {
        guard writeBuffer.drain({ writeSome($0) }) else { return }
        guard state == .open || state == .closing else { return }
        if writeBuffer.isEmpty {
            if aboveHighWaterMark {
                aboveHighWaterMark = false
                delegate?.streamDidDrain(self)
                guard state == .open || state == .closing else { return }
            }
            if state == .closing && writeBuffer.isEmpty {
                finishClose()
                return
            }
        }
        updateInterest()
    }

    /// Sets the epoll interest from the open stream's needs.
    func updateInterest() {
        guard state == .open || state == .closing else { return }
        // While reading is paused, a TLS read waiting for writability waits for the resume too.
        let wantsWrite = (!writeBuffer.isEmpty && !tlsWriteWantsRead) || (tlsReadWantsWrite && !isReadingPaused)
        setInterest(readable: !isReadingPaused || tlsWriteWantsRead, writable: wantsWrite)
    }

    /// Applies an interest set, failing the stream if epoll refuses.
    func setInterest(readable: Bool, writable: Bool) {
        do {
            try watch?.update(readable: readable, writable: writable)
        } catch {
            fail(.io, "\(error)")
        }
    }
}
