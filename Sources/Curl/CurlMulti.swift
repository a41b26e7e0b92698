import CCurl
import Transport

/// HTTP requests over libcurl's multi interface, driven by an `EventLoop`.
///
/// One per loop, loop-thread only. libcurl tells us which sockets to watch and when to time
/// out (`CURLMOPT_SOCKETFUNCTION`/`TIMERFUNCTION`); the loop's fd watches and timers call
/// `curl_multi_socket_action` back. Connections are reused through the multi handle's
/// connection cache. Completions run on the loop, never inside `perform` or `cancel`.
///
/// Creating one costs nothing: libcurl is loaded (see `LibCurl`) and the multi handle made by
/// the first request, and if that fails, each request fails with the reason.
public final class CurlMulti {
    private let loop: EventLoop
    private let libcurl: () throws(HTTPError) -> LibCurl
    /// libcurl and the multi handle, once the first request has created them.
    private var handle: (curl: LibCurl, multi: UnsafeMutableRawPointer)?
    private var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var transfersByID: [RequestID: CurlTransfer] = [:]
    private var rejected: [RequestID: TimerID] = [:]
    /// Requests whose destination is being resolved for the SSRF guard (behind a proxy).
    private var resolving: Set<RequestID> = []
    private var watches: [Int32: FDWatch] = [:]
    private var timer: TimerID?
    private var nextID: UInt64 = 1
    /// Finished easy handles, reset and kept for the next requests: a handle costs an allocation
    /// of several KiB and its set-up; a reused one keeps libcurl's caches warm.
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private let maxIdleHandles = 32

    /// A client for `loop`; nothing is loaded until the first request.
    public convenience init(loop: EventLoop) {
        self.init(loop: loop, libcurl: LibCurl.shared)
    }

    /// A client that gets libcurl from `libcurl` (tests: a library that cannot be loaded).
    init(loop: EventLoop, libcurl: @escaping () throws(HTTPError) -> LibCurl) {
        self.loop = loop
        self.libcurl = libcurl
    }

    deinit {
        // Failed requests are pending even when libcurl never loaded.
        for timer in rejected.values { loop.cancel(timer) }
        guard let (curl, multi) = handle else { return }
        // libcurl calls the socket and timer callbacks during cleanup; they must not reach an
        // object that is being destroyed (they return -1 without user data).
        _ = mojo_curl_multi_setopt_ptr(curl.api, multi, CURLMOPT_SOCKETDATA, nil)
        _ = mojo_curl_multi_setopt_ptr(curl.api, multi, CURLMOPT_TIMERDATA, nil)
        for transfer in transfers.values { _ = curl.multi_remove_handle(multi, transfer.easy) }
        transfers.removeAll()
        for easy in idleHandles { curl.easy_cleanup(easy) }
        for watch in watches.values { watch.cancel() }
        if let timer { loop.cancel(timer) }
        _ = curl.multi_cleanup(multi)
    }

    /// Loads libcurl and makes the multi handle now rather than at the first request, so that a
    /// part which cannot work without them (a webhook sink) can refuse to start, saying why.
    public func prepare() throws(HTTPError) {
        _ = try started()
    }

    /// libcurl and the multi handle hooked to the loop, made on first use; throws `HTTPError`
    /// if libcurl cannot be loaded or refuses.
    private func started() throws(HTTPError) -> (curl: LibCurl, multi: UnsafeMutableRawPointer) {
        if let handle { return handle }
        let curl = try libcurl()
        guard let multi = curl.multi_init() else {
            throw HTTPError(code: Int32(CURLE_FAILED_INIT.rawValue), message: "curl_multi_init failed", url: "")
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        let codes = [
            mojo_curl_multi_setopt_socketfn(curl.api, multi) { _, socket, what, user, _ in
                guard let user else { return -1 }
                Unmanaged<CurlMulti>.fromOpaque(user).takeUnretainedValue().socketChanged(socket, what: what)
                return 0
            },
            mojo_curl_multi_setopt_ptr(curl.api, multi, CURLMOPT_SOCKETDATA, me),
            mojo_curl_multi_setopt_timerfn(curl.api, multi) { _, timeoutMs, user in
                guard let user else { return -1 }
                Unmanaged<CurlMulti>.fromOpaque(user).takeUnretainedValue().timerChanged(timeoutMs)
                return 0
            },
            mojo_curl_multi_setopt_ptr(curl.api, multi, CURLMOPT_TIMERDATA, me),
        ]
        if let failed = codes.first(where: { $0 != CURLM_OK }) {
            _ = curl.multi_cleanup(multi)
            throw HTTPError(code: Int32(failed.rawValue), message: curl.message(failed), url: "")
        }
        handle = (curl, multi)
        return (curl, multi)
    }

    /// Starts `request`; `completion` runs once on the loop with the response or the error
    /// (unless the request is cancelled first). Invalid requests (CR/LF in headers, a body on a
    /// GET, an option libcurl refuses), and every request when libcurl cannot be loaded, fail
    /// through `completion` without touching the network.
    ///
    /// The proxy comes from `HTTPS_PROXY`/`http_proxy`/`ALL_PROXY`/`NO_PROXY` (``HTTPProxy``),
    /// chosen here and given to libcurl explicitly. Behind a proxy the connected address is the
    /// proxy's, so the SSRF guard of a `.publicOnly` request judges the destination first: its
    /// name is resolved and every address must be public before the proxy is asked.
    @discardableResult
    public func perform(_ request: HTTPRequest, _ completion: @escaping (Result<HTTPResponse, HTTPError>) -> Void) -> RequestID {
        let id = RequestID(rawValue: nextID)
        nextID += 1
        let target = ProxyTarget(url: request.url)
        let proxy = target.flatMap { HTTPProxy.fromEnvironment(secure: $0.secure, host: $0.host) }
        let make: TransferMaker = { curl, easy, id, completion throws(HTTPError) in
            try CurlTransfer(curl: curl, easy: easy, id: id, request: request, proxy: proxy, completion: completion)
        }
        guard let proxy, let target, case .publicOnly = request.addressPolicy else {
            start(id: id, url: request.url, invalid: request.validationFailure, completion: completion, make: make)
            return id
        }
        resolving.insert(id)
        HostResolver.resolve(host: target.host, port: target.port, on: loop) { [weak self] result in
            guard let self, self.resolving.remove(id) != nil else { return }
            switch result {
            case .failure(let e):
                completion(.failure(HTTPError(code: Int32(CURLE_COULDNT_RESOLVE_HOST.rawValue), message: e.message, url: request.url)))
            case .success(let addresses):
                for bytes in addresses {
                    let verdict = ProxyTarget.withSockaddr(bytes) { sa in
                        AddressPolicy.allows(sa, policy: .publicOnly) ? nil : AddressPolicy.describe(sa)
                    }
                    if let refused = verdict {
                        completion(.failure(HTTPError(code: Int32(CURLE_COULDNT_CONNECT.rawValue),
                            message: "destination \(target.host) resolves to \(refused): not a public address (SSRF guard; checked before asking the proxy \(proxy))",
                            url: request.url)))
                        return
                    }
                }
                self.start(id: id, url: request.url, invalid: request.validationFailure, completion: completion, make: make)
            }
        }
        return id
    }

    /// Configures a transfer on an easy handle (HTTP here, mail in CurlMulti+Mail).
    typealias TransferMaker = (LibCurl, UnsafeMutableRawPointer, RequestID, @escaping (Result<HTTPResponse, HTTPError>) -> Void) throws(HTTPError) -> CurlTransfer

    /// Starts a transfer that `make` configures on an easy handle (mail in CurlMulti+Mail).
    func start(url: String, invalid: String?, completion: @escaping (Result<HTTPResponse, HTTPError>) -> Void,
               make: @escaping TransferMaker) -> RequestID {
        let id = RequestID(rawValue: nextID)
        nextID += 1
        start(id: id, url: url, invalid: invalid, completion: completion, make: make)
        return id
    }

    /// Adds the transfer `make` builds to the multi handle (or fails it through `completion`).
    private func start(id: RequestID, url: String, invalid: String?, completion: @escaping (Result<HTTPResponse, HTTPError>) -> Void,
                       make: TransferMaker) {
        do throws(HTTPError) {
            if let reason = invalid {
                throw HTTPError(code: Int32(CURLE_BAD_FUNCTION_ARGUMENT.rawValue), message: reason, url: url)
            }
            let (curl, multi) = try started()
            guard let easy = idleHandles.popLast() ?? curl.easy_init() else {
                throw HTTPError(code: Int32(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed", url: url)
            }
            let transfer: CurlTransfer
            do {
                transfer = try make(curl, easy, id, completion)
            } catch {
                // The handle may hold some of the refused request's options: not reused.
                curl.easy_cleanup(easy)
                throw error
            }
            let rc = curl.multi_add_handle(multi, transfer.easy)
            guard rc == CURLM_OK else {
                throw HTTPError(code: Int32(rc.rawValue), message: curl.message(rc), url: url)
            }
            transfers[transfer.easy] = transfer
            transfersByID[id] = transfer
        } catch {
            var error = error
            if error.url.isEmpty { error.url = url }  // loading libcurl knows no URL
            rejected[id] = loop.schedule(afterMilliseconds: 0) { [unowned self] in
                rejected[id] = nil
                completion(.failure(error))
            }
        }
    }

    /// Requests started and not yet completed or cancelled (an exiting command waits, briefly,
    /// for the goodbye of a polling session to leave).
    public var inFlight: Int { transfersByID.count + rejected.count }

    /// Abandons a request: its completion is never called. A no-op if it already completed.
    public func cancel(_ id: RequestID) {
        if resolving.remove(id) != nil { return }
        if let timer = rejected.removeValue(forKey: id) {
            loop.cancel(timer)
            return
        }
        guard let (curl, multi) = handle, let transfer = transfersByID.removeValue(forKey: id) else { return }
        transfers[transfer.easy] = nil
        _ = curl.multi_remove_handle(multi, transfer.easy)
        recycle(transfer, curl)
    }

    /// Resets a removed transfer's easy handle and keeps it for a later request.
    private func recycle(_ transfer: CurlTransfer, _ curl: LibCurl) {
        let easy = transfer.takeHandle()
        if idleHandles.count < maxIdleHandles {
            curl.easy_reset(easy)
            idleHandles.append(easy)
        } else {
            curl.easy_cleanup(easy)
        }
    }

    /// Number of requests in flight.
    public var activeRequests: Int { transfers.count }

    /// CURLMOPT_SOCKETFUNCTION: start, change or stop watching `socket`.
    private func socketChanged(_ socket: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            watches.removeValue(forKey: socket)?.cancel()
            return
        }
        let readable = what & CURL_POLL_IN != 0
        let writable = what & CURL_POLL_OUT != 0
        if let watch = watches[socket] {
            if (try? watch.update(readable: readable, writable: writable)) != nil { return }
            // The number was closed and reused without a REMOVE: register it afresh.
            watch.cancel()
            watches[socket] = nil
        }
        do {
            watches[socket] = try loop.watch(fd: socket, readable: readable, writable: writable) { [unowned self] r, w, hangup in
                var mask: Int32 = 0
                if r { mask |= CURL_CSELECT_IN }
                if w { mask |= CURL_CSELECT_OUT }
                if hangup { mask |= CURL_CSELECT_ERR }
                drive(socket: socket, mask: mask)
            }
        } catch {
            // Without a watch the transfer can only end by its timeout; that error reaches the caller.
        }
    }

    /// CURLMOPT_TIMERFUNCTION: (re)arm the single multi timeout; -1 disarms it.
    private func timerChanged(_ timeoutMs: Int) {
        if let timer { loop.cancel(timer) }
        timer = nil
        guard timeoutMs >= 0 else { return }
        // Never call socket_action from inside this callback: defer to the loop.
        timer = loop.schedule(afterMilliseconds: timeoutMs) { [unowned self] in
            timer = nil
            drive(socket: mojo_CURL_SOCKET_TIMEOUT(), mask: 0)
        }
    }

    /// Lets libcurl make progress, then delivers finished transfers.
    private func drive(socket: Int32, mask: Int32) {
        guard let (curl, multi) = handle else { return }
        var running: Int32 = 0
        _ = curl.multi_socket_action(multi, socket, mask, &running)
        var remaining: Int32 = 0
        var finished: [(CurlTransfer, CURLcode)] = []
        while let message = curl.multi_info_read(multi, &remaining) {
            guard mojo_curl_msg_is_done(message) != 0, let easy = message.pointee.easy_handle,
                  let transfer = transfers.removeValue(forKey: easy) else { continue }
            transfersByID[transfer.id] = nil
            finished.append((transfer, mojo_curl_msg_result(message)))
        }
        // Remove all before calling out: a completion may start or cancel other requests.
        for (transfer, _) in finished { _ = curl.multi_remove_handle(multi, transfer.easy) }
        // The outcome is read from the handle before it is reset for reuse.
        let outcomes = finished.map { ($0.0, $0.0.result(code: $0.1)) }
        for (transfer, _) in finished { recycle(transfer, curl) }
        for (transfer, result) in outcomes { transfer.completion(result) }
    }
}
