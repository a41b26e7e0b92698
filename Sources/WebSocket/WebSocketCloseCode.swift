/// Close status codes (RFC 6455 §7.4) and the rules for which may appear in a close frame.
public enum WebSocketCloseCode {
    /// 1000: normal closure.
    public static let normal: UInt16 = 1000
    /// 1001: the endpoint is going away (shutdown, navigation).
    public static let goingAway: UInt16 = 1001
    /// 1002: protocol error.
    public static let protocolError: UInt16 = 1002
    /// 1003: a data type the endpoint cannot accept.
    public static let unsupportedData: UInt16 = 1003
    /// 1005: no status code was present. Never sent on the wire; see
    /// ``WebSocketFrameEncoder/encodeClose(code:reason:maskKey:into:)``.
    public static let noStatus: UInt16 = 1005
    /// 1007: payload inconsistent with the message type (invalid UTF-8 in text).
    public static let invalidPayload: UInt16 = 1007
    /// 1008: policy violation.
    public static let policyViolation: UInt16 = 1008
    /// 1009: message too big to process.
    public static let messageTooBig: UInt16 = 1009
    /// 1011: unexpected condition on the server.
    public static let internalError: UInt16 = 1011

    /// Whether `code` may be carried by a received close frame: 1000-1003, 1007-1014 (the IANA
    /// registered ones) and 3000-4999 (libraries and applications). 0-999, 1004-1006, 1015,
    /// 1016-2999 and 5000 and above are invalid.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
