/// Removes what a mail client adds around the answer: the quoted original ("On ... wrote:" in
/// English, German, French and Spanish, Outlook's "From: ... Sent: ..." block, the
/// "Original Message" rule, `>` lines) and the signature (`-- `, "Sent from my iPhone" and
/// its kin). What is left is trimmed of blank lines; it may be empty.
public enum ReplyTrimmer {
    /// The answer in `text` (LF or CRLF line breaks).
    public static func trim(_ text: String) -> String {
        let lines = text.replacingCRLF().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var kept: [String] = []
        var i = 0
        scan: while i < lines.count {
            let line = lines[i]
            let t = line.trimmed
            if isSignatureStart(line, trimmed: t) || isOriginalMessageRule(t) { break }
            if isAttribution(t, next: i + 1 < lines.count ? lines[i + 1].trimmed : nil) { break }
            if isOutlookHeader(lines, at: i) { break }
            if t.hasPrefix(">") {
                i += 1
                continue scan
            }
            kept.append(line.trimmingCharacters(in: " \t"))
            i += 1
        }
        while kept.first?.isEmpty == true { kept.removeFirst() }
        while kept.last?.isEmpty == true { kept.removeLast() }
        // Runs of blank lines (left where quotes were) become one.
        var out: [String] = []
        for line in kept where !(line.isEmpty && out.last?.isEmpty == true) { out.append(line) }
        return out.joined(separator: "\n")
    }

    static func isSignatureStart(_ line: String, trimmed t: String) -> Bool {
        if line == "-- " || line == "--" || t == "-- " { return true }
        let lower = t.lowercased()
        let phrases = [
            "sent from my ", "sent from mail for windows", "sent from outlook", "get outlook for ", "sent from yahoo mail",
            "sent from samsung", "sent via ", "von meinem iphone gesendet", "von meinem ipad gesendet", "gesendet von meinem ",
            "von meinem smartphone gesendet", "envoyé de mon ", "envoyé depuis mon ", "enviado desde mi ", "enviado desde ",
        ]
        return lower.count < 80 && phrases.contains { lower.hasPrefix($0) }
    }

    static func isOriginalMessageRule(_ t: String) -> Bool {
        let lower = t.lowercased()
        if lower.hasPrefix("-----") && (lower.contains("original message") || lower.contains("ursprüngliche nachricht")
            || lower.contains("message d'origine") || lower.contains("mensaje original") || lower.contains("forwarded message")) { return true }
        return false
    }

    /// "On <date>, <who> wrote:" and its translations, possibly wrapped onto a second line.
    static func isAttribution(_ t: String, next: String?) -> Bool {
        let lower = t.lowercased()
        let starts = ["on ", "am ", "le ", "el ", "on:"]
        guard starts.contains(where: { lower.hasPrefix($0) }) || lower.hasPrefix("em ") else { return false }
        func ends(_ s: String) -> Bool {
            let s = s.lowercased().trimmingCharacters(in: " \t")
            return s.hasSuffix("wrote:") || s.hasSuffix("schrieb:") || (s.contains("schrieb ") && s.hasSuffix(":"))
                || s.hasSuffix("a écrit :") || s.hasSuffix("a écrit:") || s.hasSuffix("escribió:") || s.hasSuffix("escribió :")
                || s.hasSuffix("escreveu:")
        }
        if ends(t) { return true }
        // Gmail wraps long attributions: "On Sat, ... Bridge <" / "reply+...@example.com> wrote:".
        if let next, lower.count > 10, ends(next), next.count < 120 { return true }
        return false
    }

    /// Outlook's header block: "From: ..." followed within four lines by "Sent:"/"Date:" (and
    /// their translations), often after a rule of underscores.
    static func isOutlookHeader(_ lines: [String], at i: Int) -> Bool {
        var t = lines[i].trimmed
        if t.hasPrefix("*") { t = t.replacingStars() }
        let fromWords = ["from:", "von:", "de :", "de:", "de :"]
        let lower = t.lowercased()
        if lower.hasPrefix("________________") {
            return i + 1 < lines.count && fromWords.contains { lines[i + 1].trimmed.replacingStars().lowercased().hasPrefix($0) }
        }
        guard fromWords.contains(where: { lower.hasPrefix($0) }) else { return false }
        let sentWords = ["sent:", "date:", "gesendet:", "datum:", "envoyé :", "envoyé:", "enviado:", "enviado el:", "fecha:", "to:", "an:", "à :"]
        var seen = 0
        for j in (i + 1)..<min(lines.count, i + 5) {
            let l = lines[j].trimmed.replacingStars().lowercased()
            if sentWords.contains(where: { l.hasPrefix($0) }) { seen += 1 }
        }
        return seen >= 1 && (i + 1 < lines.count)
            && ["sent:", "date:", "gesendet:", "datum:", "envoyé", "enviado", "fecha:"].contains { w in
                (i + 1..<min(lines.count, i + 5)).contains { lines[$0].trimmed.replacingStars().lowercased().hasPrefix(w) }
            }
    }
}

extension String {
    /// Without `*` (Outlook's bold markers in plain text).
    func replacingStars() -> String { String(filter { $0 != "*" }) }
}
