// libFuzzer entry for the Mail module: the MIME parser, content extraction (charsets, HTML),
// header decoding, address parsing, the reply trimmer and the codecs' round trips. Built by
// Tests/Fuzz/run.sh with Sources/Mail/*.swift and Tests/Fuzz/Common/*.swift.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkParser(bytes)
    // The text checks are linear but costly under ASan: every input feeds the trimmer, the
    // round trips take the first 512 bytes.
    checkText(String(decoding: bytes, as: UTF8.self))
    checkCodecs(Array(bytes.prefix(512)))
    return 0
}

/// Any input parses or fails with a reason; what parses yields content, decodable headers and
/// a verdict of the inbound policy.
private func checkParser(_ bytes: [UInt8]) {
    var parser = MIMEParser()
    guard let message = try? parser.parse(bytes) else { return }
    let content = MailContent(message)
    _ = content.replyText
    for (_, value) in message.headers {
        _ = HeaderEncoding.decode(value)
        _ = MailAddress.parse(value)
    }
    _ = InboundPolicy(authservId: "mx.example").refusal(message)
    _ = message.fileName
}

/// The trimmer only removes (no quoted line survives, no text is added); the HTML reducer does
/// not grow text without bound; header values stay one line.
private func checkText(_ text: String) {
    let trimmed = ReplyTrimmer.trim(text)
    guard trimmed.unicodeScalars.count <= text.unicodeScalars.count else { fuzzFailure("trimming added text") }
    guard !trimmed.split(separator: "\n").contains(where: { $0.trimmingPrefixSpaces().hasPrefix(">") }) else { fuzzFailure("a quoted line survived") }
    let plain = HTMLText.plainText(text)
    guard plain.unicodeScalars.count <= text.unicodeScalars.count * 4 + 8 else { fuzzFailure("HTML text grew") }
    // Whatever goes into a header comes out as one line.
    let text = String(text.prefix(512))
    let subject = HeaderEncoding.unstructured(text)
    for line in subject.split(separator: "\r\n", omittingEmptySubsequences: false) {
        guard !line.contains("\n") && !line.contains("\r") else { fuzzFailure("a line break inside a header value") }
    }
    if !text.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) || $0.value == 0x2028 || $0.value == 0x2029 }) {
        guard HeaderEncoding.decode(subject.replacingFolds()) == text else { fuzzFailure("encoded words do not round-trip") }
    }
}

/// Quoted-printable and base32 round trips; QP lines stay under 78 characters.
private func checkCodecs(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self).replacingCRLFForFuzz()
    let encoded = QuotedPrintable.encode(text)
    for line in encoded.split(separator: 10) where line.count > 77 { _ = line; fuzzFailure("quoted-printable line too long") }
    let expected = text.hasSuffix("\n") || text.isEmpty ? text : text + "\n"
    guard String(decoding: QuotedPrintable.decode(encoded), as: UTF8.self) == (text.isEmpty ? "\n" : expected) || text.isEmpty else {
        fuzzFailure("quoted-printable does not round-trip")
    }
    guard Base32.decode(Base32.encode(bytes)) == bytes else { fuzzFailure("base32 does not round-trip") }
    _ = QuotedPrintable.decode(bytes)
    _ = Base64Codec.decode(bytes)
}

extension Substring {
    func trimmingPrefixSpaces() -> Substring { drop(while: { $0 == " " || $0 == "\t" }) }
}

extension String {
    func replacingFolds() -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: "\r\n ") {
            out += rest[..<r.lowerBound] + " "
            rest = rest[r.upperBound...]
        }
        return out + rest
    }

    /// Line breaks as LF (CR alone too), as the encoder normalises them.
    func replacingCRLFForFuzz() -> String {
        var out = ""
        for c in self {
            if c == "\r\n" || c == "\r" { out.append("\n") } else { out.append(c) }
        }
        return out
    }
}
