import COpenSSL
import Glibc

extension ByteStream {
    /// Arms the connect timeout and starts resolving.
    func start() {
        connectTimer = loop.schedule(afterMilliseconds: connectTimeoutMs) { [self] in
            connectTimer = nil
            let phase = state == .resolving ? "resolving" : state == .handshaking ? "in the TLS handshake" : "connecting"
            fail(.timedOut, "connect timed out after \(connectTimeoutMs) ms (\(phase))")
        }
        DNSResolver.resolve(host: host, port: port, on: loop) { [self] result in
            guard state == .resolving else { return }
            switch result {
            case .success(let resolved):
                addresses = resolved
                state = .connecting
                tryNextAddress()
            case .failure(let error):
                fail(.dnsFailure, error.message)
            }
        }
    }

    /// Starts a non-blocking connect to the next address, or fails with the last error.
    func tryNextAddress() {
        while nextAddress < addresses.count {
            let address = addresses[nextAddress]
            nextAddress += 1
            do {
                fd = try syscall("socket") {
                    Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
                }
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                let descriptor = fd
                watch = try loop.watch(fd: descriptor, readable: false, writable: true) { [self] readable, writable, hangup in
                    handleEvent(readable: readable, writable: writable, hangup: hangup)
                }
                let result = try syscallAllowingWouldBlock("connect") {
                    address.withSockaddr { Glibc.connect(descriptor, $0, $1) }
                }
                if case .processed = result { didConnectTCP() }
                return
            } catch let error as IOError {
                lastConnectError = TransportError(error, peer: peerDescription)
                abandonSocket()
            } catch {
                lastConnectError = TransportError(kind: .io, peer: peerDescription, message: "\(error)")
                abandonSocket()
            }
        }
        let error = lastConnectError ?? TransportError(kind: .unreachable, peer: peerDescription, message: "no address to connect to")
        teardown(error: error)
    }

    /// Drops a socket whose connect failed, before trying the next address.
    private func abandonSocket() {
        watch?.cancel()
        watch = nil
        closeDescriptor(fd)
        fd = -1
    }

    /// The pending connect finished (writable or error): check `SO_ERROR`.
    func finishConnect() {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { code = Glibc.errno }
        if code == 0 {
            didConnectTCP()
        } else {
            lastConnectError = TransportError(IOError(errno: code, function: "connect"), peer: peerDescription)
            abandonSocket()
            tryNextAddress()
        }
    }

    /// TCP is up: start TLS or open the stream.
    func didConnectTCP() {
        guard let configuration = tlsConfiguration else {
            becomeOpen()
            return
        }
        state = .handshaking
        do {
            let context = try loop.tlsContext(for: configuration)
            tls = try TLSSession(context: context, fd: fd, serverName: configuration.serverName ?? host,
                                 verifyPeer: configuration.verifyPeer)
        } catch {
            fail(.tls, error.message)
            return
        }
        continueHandshake()
    }

    /// Runs one handshake step and waits for what OpenSSL asks for.
    func continueHandshake() {
        guard let tls else { return }
        switch tls.handshake() {
        case .done:
            negotiatedALPN = tls.negotiatedALPN
            becomeOpen()
        case .wantRead:
            handshakeWantsWrite = false
            setInterest(readable: true, writable: false)
        case .wantWrite:
            handshakeWantsWrite = true
            setInterest(readable: true, writable: true)
        case .closed:
            fail(.closedByPeer, "connection closed during the TLS handshake")
        case .failed(let kind, let message):
            fail(kind, message)
        }
    }

    /// The connection is usable: tell the delegate and send what was written meanwhile.
    private func becomeOpen() {
        if let connectTimer { loop.cancel(connectTimer) }
        connectTimer = nil
        state = .open
        delegate?.streamDidConnect(self)
        guard state == .open else { return }
        if !writeBuffer.isEmpty { flush() } else { updateInterest() }
    }
}
