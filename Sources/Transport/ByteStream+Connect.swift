import COpenSSL
import Glibc

extension ByteStream {
    /// Arms the connect timeout and starts resolving.
    func start() {
        connectTimer = loop.schedule(afterMilliseconds: connectTimeoutMs) { [self] in
            connectTimer = nil
            let phase = state == .resolving ? "resolving" : state == .handshaking ? "in the TLS handshake"
                : state == .proxying ? "waiting for the proxy \(proxy?.description ?? "")" : "connecting"
            fail(.timedOut, "connect timed out after \(connectTimeoutMs) ms (\(phase))")
        }
        // Through a proxy, the proxy's name is resolved here and the destination's by the proxy.
        DNSResolver.resolve(host: proxy?.host ?? host, port: proxy?.port ?? port, on: loop) { [self] result in
            guard state == .resolving else { return }
            switch result {
            case .success(let resolved):
                addresses = resolved
                state = .connecting
                tryNextAddress()
            case .failure(let error):
                fail(.dnsFailure, proxy.map { "proxy \($0): \(error.message)" } ?? error.message)
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

    /// TCP is up: ask the proxy for a tunnel, or start TLS, or open the stream.
    func didConnectTCP() {
        if let proxy, state == .connecting {
            state = .proxying
            let request = proxy.connectRequest(host: host, port: port)
            // A CONNECT request is small: the fresh socket's buffer takes it whole.
            let sent = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == request.count else {
                fail(.io, "proxy \(proxy): cannot send CONNECT")
                return
            }
            setInterest(readable: true, writable: false)
            return
        }
        guard let configuration = tlsConfiguration else {
            becomeOpen()
            return
        }
        startTLS(configuration)
    }

    /// Starts the TLS handshake with the destination.
    func startTLS(_ configuration: TLSConfiguration) {
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

    /// Reads the proxy's answer to `CONNECT`; a 2xx opens the tunnel (then TLS, if any).
    func readProxyResponse() {
        guard let proxy else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            teardown(error: TransportError(IOError(errno: errno, function: "recv"), peer: "proxy \(proxy)"))
            return
        }
        if n == 0 {
            fail(.closedByPeer, "proxy \(proxy) closed the connection before answering CONNECT")
            return
        }
        proxyResponse += chunk[0..<n]
        let end: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = proxyResponse.indices.dropLast(3).first(where: { Array(proxyResponse[$0..<$0 + 4]) == end }) else {
            if proxyResponse.count > Self.maxProxyResponseBytes { fail(.io, "proxy \(proxy): response head over 16 KiB") }
            return
        }
        let head = String(decoding: proxyResponse[..<headEnd], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            fail(.io, "proxy \(proxy): not an HTTP response to CONNECT")
            return
        }
        guard (200..<300).contains(status) else {
            let hint = status == 407 ? " (proxy authentication required: put user:password in the proxy URL)" : ""
            fail(status == 407 ? .io : .unreachable, "proxy \(proxy) refused CONNECT \(peerDescription): \(statusLine)\(hint)")
            return
        }
        // Anything after the head would be the destination's first bytes; a proxy sends none
        // before the client speaks, so there is nothing to carry over.
        proxyResponse = []
        state = .connecting
        guard let configuration = tlsConfiguration else {
            becomeOpen()
            return
        }
        startTLS(configuration)
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
