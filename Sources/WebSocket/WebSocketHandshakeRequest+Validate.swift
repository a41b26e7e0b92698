extension WebSocketHandshakeRequest {
    /// Checks the server's response head against this request (RFC 6455 §4.1, client steps 1-6):
    /// status 101, `Upgrade: websocket` (any case), a `Connection` header holding the `upgrade`
    /// token, the exact `Sec-WebSocket-Accept`, and no extension or subprotocol we did not offer
    /// (offers are made through `extraHeaders`).
    public func validate(_ head: HTTPResponseHead) throws(WebSocketHandshakeError) {
        guard head.status == 101 else { throw .unexpectedStatus(head.status, head.reason) }
        guard let upgrade = head.header("Upgrade"),
              ASCII.tokens(upgrade).contains(where: { ASCII.equalsIgnoringCase(String($0), "websocket") }) else {
            throw .missingUpgrade
        }
        guard let connection = head.header("Connection"),
              ASCII.tokens(connection).contains(where: { ASCII.equalsIgnoringCase(String($0), "upgrade") }) else {
            throw .missingConnection
        }
        guard let accept = head.header("Sec-WebSocket-Accept"),
              ASCII.trimmed(Substring(accept)) == Substring(expectedAccept) else {
            throw .badAccept
        }
        if let extensions = head.header("Sec-WebSocket-Extensions") {
            let offered = offeredTokens("Sec-WebSocket-Extensions").map { Self.extensionName($0) }
            for selected in ASCII.tokens(extensions) {
                let name = Self.extensionName(selected)
                guard offered.contains(where: { ASCII.equalsIgnoringCase($0, name) }) else {
                    throw .unsupportedExtension(extensions)
                }
            }
        }
        if let selected = head.header("Sec-WebSocket-Protocol") {
            let tokens = ASCII.tokens(selected)
            let offered = offeredTokens("Sec-WebSocket-Protocol")
            // The server selects exactly one of the offered subprotocols (§4.2.2 step 5.5.4).
            guard tokens.count == 1, let token = tokens.first, offered.contains(token) else {
                throw .unsupportedProtocol(selected)
            }
        }
    }

    /// The name of an extension offer such as `permessage-deflate; client_max_window_bits`.
    private static func extensionName(_ offer: Substring) -> String {
        String(ASCII.trimmed(offer.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? offer))
    }
}
