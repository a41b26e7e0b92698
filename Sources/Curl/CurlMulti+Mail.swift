import CCurl

extension CurlMulti {
    /// Runs one SMTP submission or IMAP command. `completion` runs once on the loop (unless the
    /// transfer is cancelled first) with the outcome; server refusals (an SMTP 4xx/5xx, an IMAP
    /// NO) are a result with `curlCode != 0` and the server's reply, not a thrown error.
    /// Connections are reused across transfers to the same server and login (the multi
    /// handle's connection cache), so a run of mails shares one SMTP session.
    @discardableResult
    public func perform(mail request: MailTransferRequest, _ completion: @escaping (MailTransferResult) -> Void) -> RequestID {
        start(url: request.url, invalid: request.validationFailure, completion: { result in
            switch result {
            case .failure(let e):
                completion(MailTransferResult(curlCode: e.code == 0 ? -1 : e.code, error: e.message, replyCode: 0, lines: [], body: []))
            case .success(let r):
                completion(MailTransferResult(
                    curlCode: Int32(r.value(forHeader: CurlTransfer.curlCodeHeader) ?? "") ?? -1,
                    error: r.value(forHeader: CurlTransfer.curlErrorHeader) ?? "",
                    replyCode: r.status,
                    lines: r.headers.filter { $0.0.isEmpty }.map(\.1),
                    body: r.body))
            }
        }, make: { curl, easy, id, completion throws(HTTPError) in
            try CurlTransfer(curl: curl, easy: easy, id: id, mail: request, completion: completion)
        })
    }
}

extension CurlTransfer {
    /// Pseudo header fields a mail transfer's result carries to `perform(mail:)`.
    static let curlCodeHeader = "x-mojo-curl-code"
    static let curlErrorHeader = "x-mojo-curl-error"

    /// Configures `easy` for an SMTP or IMAP transfer.
    convenience init(curl: LibCurl, easy: UnsafeMutableRawPointer, id: RequestID, mail request: MailTransferRequest,
                     completion: @escaping (Result<HTTPResponse, HTTPError>) -> Void) throws(HTTPError) {
        try self.init(curl: curl, easy: easy, id: id, url: request.url, maxResponseBytes: request.maxResponseBytes, completion: completion)
        serverLines = []
        let me = Unmanaged.passUnretained(self).toOpaque()
        let api = curl.api
        try check(mojo_curl_setopt_str(api, easy, CURLOPT_URL, request.url))
        try check(mojo_curl_setopt_str(api, easy, CURLOPT_PROTOCOLS_STR, request.isSMTP ? "smtp,smtps" : "imap,imaps"))
        try check(mojo_curl_setopt_ptr(api, easy, CURLOPT_ERRORBUFFER, errorBuffer))
        try check(mojo_curl_setopt_long(api, easy, CURLOPT_NOSIGNAL, 1))
        try check(mojo_curl_setopt_long(api, easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, request.connectTimeoutMs)))
        try check(mojo_curl_setopt_long(api, easy, CURLOPT_TIMEOUT_MS, max(1, request.timeoutMs)))
        try check(mojo_curl_setopt_long(api, easy, CURLOPT_SSL_VERIFYPEER, 1))
        try check(mojo_curl_setopt_long(api, easy, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile = request.caFile { try check(mojo_curl_setopt_str(api, easy, CURLOPT_CAINFO, caFile)) }
        let ssl = request.requireTLS ? CURLUSESSL_ALL : CURLUSESSL_NONE
        try check(mojo_curl_setopt_long(api, easy, CURLOPT_USE_SSL, Int(ssl.rawValue)))
        if let u = request.username { try check(mojo_curl_setopt_str(api, easy, CURLOPT_USERNAME, u)) }
        if let p = request.password { try check(mojo_curl_setopt_str(api, easy, CURLOPT_PASSWORD, p)) }
        try check(mojo_curl_setopt_off(api, easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)))

        if request.isSMTP {
            try check(mojo_curl_setopt_str(api, easy, CURLOPT_MAIL_FROM, "<\(request.mailFrom ?? "")>"))
            for r in request.recipients {
                guard let list = curl.slist_append(recipientList, "<\(r)>") else {
                    throw HTTPError(code: Int32(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_slist_append failed", url: url)
                }
                recipientList = list
            }
            try check(mojo_curl_setopt_slist(api, easy, CURLOPT_MAIL_RCPT, recipientList))
            upload = request.upload
            try check(mojo_curl_setopt_long(api, easy, CURLOPT_UPLOAD, 1))
            try check(mojo_curl_setopt_off(api, easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.count)))
            try check(mojo_curl_setopt_write(api, easy, CURLOPT_READFUNCTION) { buffer, size, count, user in
                guard let buffer, let user else { return 0 }
                return Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue().sendUpload(buffer, size * count)
            })
            try check(mojo_curl_setopt_ptr(api, easy, CURLOPT_READDATA, me))
        } else if let command = request.command {
            try check(mojo_curl_setopt_str(api, easy, CURLOPT_CUSTOMREQUEST, command))
        }
        try check(mojo_curl_setopt_write(api, easy, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            return Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue().receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        try check(mojo_curl_setopt_ptr(api, easy, CURLOPT_WRITEDATA, me))
        try check(mojo_curl_setopt_write(api, easy, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue().receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        try check(mojo_curl_setopt_ptr(api, easy, CURLOPT_HEADERDATA, me))
    }

    /// CURLOPT_READFUNCTION: the next piece of the message.
    private func sendUpload(_ buffer: UnsafeMutablePointer<CChar>, _ capacity: Int) -> Int {
        let n = min(capacity, upload.count - uploadOffset)
        guard n > 0 else { return 0 }
        upload.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + uploadOffset, byteCount: n)
        }
        uploadOffset += n
        return n
    }

    /// A mail transfer's outcome, as a response `perform(mail:)` unpacks.
    func mailResult(code: CURLcode) -> Result<HTTPResponse, HTTPError> {
        var reply = 0
        _ = mojo_curl_getinfo_long(curl.api, easy, CURLINFO_RESPONSE_CODE, &reply)
        var headers: [(String, String)] = [(Self.curlCodeHeader, String(code.rawValue))]
        if code != CURLE_OK {
            let message = exceededLimit || code == CURLE_FILESIZE_EXCEEDED
                ? "response larger than maxResponseBytes (\(maxResponseBytes))" : error(code).message
            headers.append((Self.curlErrorHeader, message))
        }
        headers += (serverLines ?? []).map { ("", $0) }
        return .success(HTTPResponse(status: reply, headers: headers, body: body))
    }
}
