import Diagnostics
import JSON
import Mail
import Rules

/// Building the mails of an email sink: one message's mail, or a digest of several.
extension EmailSink {
    /// One mail ready for SMTP: its recipient, bytes, and the events it carries.
    struct Mail {
        let recipient: String
        let bytes: [UInt8]
        let eventIds: [String]
    }

    /// The event of a delivery when it is a message to mail; nil when it is not one (nothing to
    /// mail); a failure when the spooled envelope cannot be read (dead-lettered with the reason).
    static func message(_ delivery: Delivery) -> Result<RoutableEvent?, MailBuildError> {
        guard let json = try? JSONValue(parsing: delivery.payload) else { return .failure(MailBuildError(reason: "the spooled event is not JSON")) }
        switch RoutableEvent.decode(envelope: json) {
        case .failure(let e): return .failure(MailBuildError(reason: e.description))
        case .success(let e): return .success(e.type == "message:new" && e.conversationId != nil ? e : nil)
        }
    }

    /// The mails of a batch: per recipient, the messages not yet accepted for that recipient,
    /// as that message's own mail when there is one, as a digest when there are several.
    func mails(for batch: [Held]) -> Result<[Mail], MailBuildError> {
        let now = Timestamp.nowUnixMilliseconds() / 1000
        var out: [Mail] = []
        for r in setup.recipients {
            let items = batch.filter { !accepted.contains($0.delivery.eventId, recipient: r.address) }
            guard !items.isEmpty else { continue }
            do {
                let mail = items.count == 1 ? single(items[0], to: r, now: now) : digest(items, to: r, now: now)
                out.append(Mail(recipient: r.address, bytes: try mail.render(), eventIds: items.map(\.delivery.eventId)))
            } catch {
                return .failure(MailBuildError(reason: "cannot build the mail: \(error.reason)"))
            }
        }
        return .success(out)
    }

    /// The mail of one message: its own Message-ID, answering the mail of the message it replies
    /// to (MOJO `replyToId`) or else the conversation's thread root.
    private func single(_ held: Held, to r: MailAddress, now: Int64) -> OutgoingMail {
        let event = held.event
        let message = event.data["message"]
        let messageId = message?["id"]?.stringValue ?? held.delivery.eventId
        // Rendered when the event was routed and spooled with it (`EmailSinkSettings.attributes`).
        let subject = held.delivery.attributes.first { $0.0 == "subject" }?.1 ?? settings.subject.render(event, escaping: .header)
        let text = (template(held.delivery.route) ?? Template.defaultBody).render(event, escaping: .body)
        let domain = setup.messageDomain
        var mail = base(event, to: r, sender: fromName(event.senderName), subject: subject, text: text, now: now,
                        messageId: MessageIDs.message(messageId, recipient: r.address, domain: domain))
        if let replyToId = message?["replyToId"]?.stringValue {
            let answered = MessageIDs.message(replyToId, recipient: r.address, domain: domain)
            mail.references.append(answered)
            mail.inReplyTo = answered
        }
        return mail
    }

    /// A digest: the messages' bodies in order under the first one's subject, in the
    /// conversation's thread.
    private func digest(_ items: [Held], to r: MailAddress, now: Int64) -> OutgoingMail {
        let first = items[0].event
        var senders: [String] = []
        for held in items {
            let name = held.event.senderName ?? "MOJO"
            if !senders.contains(name) { senders.append(name) }
        }
        let subject = settings.subject.render(first, escaping: .header) + " (\(items.count) messages)"
        let text = items.map { (template($0.delivery.route) ?? Template.defaultBody).render($0.event, escaping: .body) }
            .joined(separator: "\n" + String(repeating: "\u{2014}", count: 8) + "\n\n")
        let ids = items.map { $0.event.data["message"]?["id"]?.stringValue ?? $0.delivery.eventId }
        let sender = senders.count == 1 ? senders[0] : senders[0] + " and others"
        return base(first, to: r, sender: fromName(sender), subject: subject, text: text, now: now,
                    messageId: MessageIDs.digest(ids, recipient: r.address, domain: setup.messageDomain))
    }

    private func fromName(_ sender: String?) -> String {
        setup.from.name.isEmpty ? "\(sender ?? "MOJO") via MOJO" : setup.from.name
    }

    /// What every mail of a conversation carries: addresses, Reply-To key, thread root, List-Id.
    private func base(_ event: RoutableEvent, to r: MailAddress, sender: String, subject: String, text: String, now: Int64,
                      messageId: String) -> OutgoingMail {
        let conversation = event.conversationId ?? ""
        let domain = setup.messageDomain
        var mail = OutgoingMail(from: MailAddress(name: sender, address: setup.from.address), to: r, subject: subject,
                                date: now, messageId: messageId, text: text)
        if let codec = setup.codec {
            mail.replyTo = MailAddress(name: sender, address: codec.address(tenant: event.tenant, conversation: conversation, recipient: r.address))
        }
        let root = MessageIDs.thread(conversation, recipient: r.address, domain: domain)
        mail.references = [root]
        mail.inReplyTo = root
        let listToken = String(conversation.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }.prefix(64))
        mail.listId = ("MOJO conversation", (listToken.isEmpty ? "conversation" : listToken) + "." + domain)
        if settings.html { mail.html = OutgoingMail.htmlEscaped(text) }
        return mail
    }
}
