import Testing
@testable import Rules

@Suite struct ExplainTests {
    @Test func decisionsForEveryRoute() throws {
        let text = Fixtures.header + """
        sink desk { type = email smtp = "smtp://h" from = "a@b" to = "c@d" subject = "{sender.name}: {content}" }
        route other-conv { to = bot  conversation = ["11111111-*"] }
        route support { to = [bot, desk]  content = /help/  template = "{sender.name} needs help: {content}" }
        route never { to = bot }
        """
        let config = try Fixtures.load(text).get()
        let e = Fixtures.message("help\r\nBcc: x", conversation: "222", name: "Jö")
        let decisions = config.explain(e)
        #expect(decisions.map(\.route) == ["other-conv", "support", "never"])
        #expect(decisions[0].outcome == .failed("conversation 222 not in [11111111-*]"))
        #expect(decisions[1].outcome == .matched([
            RouteDecision.Delivery(sink: "bot", text: #"Jö needs help: help\r\nBcc: x"#, subject: nil),
            RouteDecision.Delivery(sink: "desk", text: "Jö needs help: help\r\nBcc: x", subject: "=?UTF-8?B?SsO2OiBoZWxwIEJjYzogeA==?="),
        ]))
        #expect(decisions[2].outcome == .notReached(after: "support"))
        #expect(decisions.map(\.description).joined(separator: "\n") == #"""
        route other-conv (/etc/mb/bridge.conf:5:1): skipped, conversation 222 not in [11111111-*]
        route support (/etc/mb/bridge.conf:6:1): matched
          -> bot: "Jö needs help: help\\r\\nBcc: x"
          -> desk subject: "=?UTF-8?B?SsO2OiBoZWxwIEJjYzogeA==?="
          -> desk: "Jö needs help: help\r\nBcc: x"
        route never (/etc/mb/bridge.conf:7:1): not reached, route support matched first
        """#)
    }

    @Test func continueKeepsGoing() throws {
        let text = Fixtures.header + """
        route a { to = bot continue = true }
        route b { to = bot sender = "nobody" }
        route c { to = bot }
        """
        let decisions = try Fixtures.load(text).get().explain(Fixtures.message())
        guard case .matched = decisions[0].outcome, case .matched = decisions[2].outcome else {
            Issue.record("\(decisions)")
            return
        }
        #expect(decisions[1].outcome == .failed("sender user_1 not in [nobody]"))
    }
}
