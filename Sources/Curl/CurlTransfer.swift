import CCurl
import Transport

/// One request in flight: its easy handle, header list, error buffer and response so far.
///
/// Loop-thread only. libcurl's write and header callbacks find the transfer through the
/// unretained pointer set as `WRITEDATA`/`HEADERDATA`; `CurlMulti` keeps it alive meanwhile.
final class CurlTransfer {
    let curl: LibCurl
    let id: RequestID
    let easy: UnsafeMutableRawPointer
    let url: String
    let completion: (Result<HTTPResponse, HTTPError>) -> Void
    let maxResponseBytes: Int
    private var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>
    private(set) var body: [UInt8] = []
    private(set) var headers: [(String, String)] = []
    private(set) var exceededLimit = false
    /// The address the SSRF guard refused, if it did.
    var refusedAddress: String?

    /// Whether `deinit` cleans the easy handle up (false once `takeHandle()` gave it back).
    private var ownsHandle = true

    // Mail transfers (CurlMulti+Mail.swift): the server's response lines (nil for HTTP), the
    // SMTP recipients, and the message being uploaded.
    var serverLines: [String]?
    var recipientList: UnsafeMutablePointer<curl_slist>?
    var upload: [UInt8] = []
    var uploadOffset = 0

    /// Configures `easy` (new, or reset by `curl_easy_reset`) for `request`, taking it over;
    /// throws with libcurl's message if an option is refused.
    init(curl: LibCurl, easy: UnsafeMutableRawPointer, id: RequestID, request: HTTPRequest, proxy: HTTPProxy? = nil,
         completion: @escaping (Result<HTTPResponse, HTTPError>) -> Void) throws(HTTPError) {
        self.curl = curl
        self.id = id
        self.easy = easy
        self.url = request.url
        self.completion = completion
        self.maxResponseBytes = request.maxResponseBytes
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(request, proxy: proxy)
    }

    /// Takes `easy` over without configuring it: the caller sets the options (mail transfers).
    init(curl: LibCurl, easy: UnsafeMutableRawPointer, id: RequestID, url: String, maxResponseBytes: Int,
         completion: @escaping (Result<HTTPResponse, HTTPError>) -> Void) throws(HTTPError) {
        self.curl = curl
        self.id = id
        self.easy = easy
        self.url = url
        self.completion = completion
        self.maxResponseBytes = maxResponseBytes
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    /// Hands the easy handle back (to be reset and reused); the transfer must not use it again.
    func takeHandle() -> UnsafeMutableRawPointer {
        ownsHandle = false
        return easy
    }

    deinit {
        if ownsHandle { curl.easy_cleanup(easy) }
        curl.slist_free_all(headerList)
        curl.slist_free_all(recipientList)
        errorBuffer.deallocate()
    }

    private func configure(_ request: HTTPRequest, proxy: HTTPProxy?) throws(HTTPError) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(mojo_curl_setopt_str(curl.api, easy, CURLOPT_URL, request.url))
        try check(mojo_curl_setopt_str(curl.api, easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        try check(mojo_curl_setopt_ptr(curl.api, easy, CURLOPT_ERRORBUFFER, errorBuffer))
        // The proxy is chosen by CurlMulti (the same rules as the WebSocket transport); "" keeps
        // libcurl from reading the environment itself.
        try check(mojo_curl_setopt_str(curl.api, easy, CURLOPT_PROXY, proxy?.url ?? ""))
        if case .publicOnly = request.addressPolicy, proxy == nil {
            // The SSRF guard: judged on the resolved address, at connect time.
            try check(mojo_curl_setopt_opensocket(curl.api, easy) { user, _, address in
                guard let address else { return -1 }
                return withUnsafePointer(to: &address.pointee.addr) { sa -> Int32 in
                    guard AddressPolicy.allows(sa, policy: .publicOnly) else {
                        if let user { Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue().refusedAddress = AddressPolicy.describe(sa) }
                        return -1
                    }
                    return socket(address.pointee.family, address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.protocol)
                }
            })
            try check(mojo_curl_setopt_ptr(curl.api, easy, CURLOPT_OPENSOCKETDATA, me))
        }
        // Signals are the daemon's (signalfd); libcurl must not install handlers or use alarm().
        try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_NOSIGNAL, 1))
        try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_HTTP_VERSION, mojo_CURL_HTTP_VERSION_1_1()))
        try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, request.connectTimeoutMs)))
        try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_TIMEOUT_MS, max(1, request.timeoutMs)))
        try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0))
        if request.followRedirects {
            try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_MAXREDIRS, 5))
            try check(mojo_curl_setopt_str(curl.api, easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        }
        try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_SSL_VERIFYPEER, request.verifyPeer ? 1 : 0))
        try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_SSL_VERIFYHOST, request.verifyPeer ? 2 : 0))
        if let caFile = request.caFile {
            try check(mojo_curl_setopt_str(curl.api, easy, CURLOPT_CAINFO, caFile))
        }
        // Refuses early when Content-Length is known; the write callback enforces it otherwise.
        try check(mojo_curl_setopt_off(curl.api, easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)))

        switch request.method {
        case "GET":
            try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_HTTPGET, 1))
        case "POST":
            try check(mojo_curl_setopt_long(curl.api, easy, CURLOPT_POST, 1))
            try setBody(request.body)
        default:
            try check(mojo_curl_setopt_str(curl.api, easy, CURLOPT_CUSTOMREQUEST, request.method))
            if !request.body.isEmpty { try setBody(request.body) }
        }

        // "Expect:" suppresses 100-continue: a round trip per POST is costly for long-polling.
        for line in request.headers.map({ $0.1.isEmpty ? "\($0.0);" : "\($0.0): \($0.1)" }) + ["Expect:"] {
            guard let list = curl.slist_append(headerList, line) else {
                throw HTTPError(code: Int32(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_slist_append failed", url: url)
            }
            headerList = list
        }
        try check(mojo_curl_setopt_slist(curl.api, easy, CURLOPT_HTTPHEADER, headerList))

        try check(mojo_curl_setopt_write(curl.api, easy, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        try check(mojo_curl_setopt_ptr(curl.api, easy, CURLOPT_WRITEDATA, me))
        try check(mojo_curl_setopt_write(curl.api, easy, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        try check(mojo_curl_setopt_ptr(curl.api, easy, CURLOPT_HEADERDATA, me))
    }

    private func setBody(_ body: [UInt8]) throws(HTTPError) {
        // COPYPOSTFIELDS copies now (size first), so the array need not outlive this call.
        try check(mojo_curl_setopt_off(curl.api, easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
        let rc = body.withUnsafeBytes { raw -> CURLcode in
            guard let base = raw.baseAddress else { return mojo_curl_setopt_str(curl.api, easy, CURLOPT_COPYPOSTFIELDS, "") }
            return mojo_curl_setopt_ptr(curl.api, easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
        }
        try check(rc)
    }

    /// Appends body bytes; returning less than offered makes libcurl abort with CURLE_WRITE_ERROR.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard body.count + bytes.count <= maxResponseBytes else {
            exceededLimit = true
            return 0
        }
        body.append(contentsOf: bytes)
        return bytes.count
    }

    /// Records one header line; a status line starts a new response (1xx, redirects).
    func receiveHeader(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self)
        if serverLines != nil {
            // A mail server's response line, kept as is (the last 100).
            if serverLines!.count >= 100 { serverLines!.removeFirst() }
            serverLines!.append(text.trimmingWhitespace())
            return
        }
        if text.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = String(text[..<colon])
        let value = text[text.index(after: colon)...].trimmingWhitespace()
        headers.append((name, value))
    }

    /// The outcome once libcurl reports the transfer done with `code`.
    func result(code: CURLcode) -> Result<HTTPResponse, HTTPError> {
        if serverLines != nil { return mailResult(code: code) }
        if exceededLimit || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(HTTPError(code: Int32(code.rawValue),
                message: "response larger than maxResponseBytes (\(maxResponseBytes))", url: url))
        }
        if let refusedAddress {
            return .failure(HTTPError(code: Int32(code.rawValue),
                message: "connection to \(refusedAddress) refused: not a public address (SSRF guard)", url: url))
        }
        guard code == CURLE_OK else { return .failure(error(code)) }
        var status = 0
        _ = mojo_curl_getinfo_long(curl.api, easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: headers, body: body))
    }

    /// `curl_easy_strerror(code)` plus the error buffer's detail, if any.
    func error(_ code: CURLcode) -> HTTPError {
        var message = curl.message(code)
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty { message += ": " + detail.trimmingWhitespace() }
        return HTTPError(code: Int32(code.rawValue), message: message, url: url)
    }

    func check(_ code: CURLcode) throws(HTTPError) {
        if code != CURLE_OK { throw error(code) }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs, CR and LF.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
