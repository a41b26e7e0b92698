import Testing
@testable import SocketIO

@Suite struct EngineIOClientStateTests {
    private let open = EngineOpen(sid: "s1", upgrades: ["websocket"], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 100)
    private func ms(_ n: Int) -> MonotonicInstant { .milliseconds(n) }

    private func opened(_ transport: EngineIOClientState.Transport = .websocket) -> EngineIOClientState {
        var state = EngineIOClientState(transport: transport, now: ms(0))
        _ = state.received(.open(open), now: ms(10))
        return state
    }

    @Test func opensAndAnswersPings() {
        var state = EngineIOClientState(transport: .websocket, now: ms(0))
        #expect(state.deadline == ms(20_000))
        #expect(state.received(.open(open), now: ms(10)) == .opened(open))
        #expect(state.handshake == open)
        #expect(state.received(.ping([]), now: ms(100)) == .send(.pong([])))
        #expect(state.received(.message(Array("2[\"a\"]".utf8)), now: ms(200)) == .message(Array("2[\"a\"]".utf8)))
        #expect(state.received(.binary([1]), now: ms(200)) == .binary([1]))
        #expect(state.received(.noop, now: ms(200)) == .none)
        #expect(state.received(.pong([]), now: ms(200)) == .none)
    }

    @Test func handshakeMustComeFirstAndOnce() {
        var state = EngineIOClientState(transport: .websocket, now: ms(0))
        #expect(state.received(.noop, now: ms(1)) == .none)
        if case .protocolError = state.received(.message([]), now: ms(1)) {} else { Issue.record("message before open accepted") }
        #expect(state.isClosed)
        var again = opened()
        if case .protocolError = again.received(.open(open), now: ms(20)) {} else { Issue.record("second open accepted") }
        #expect(again.received(.ping([]), now: ms(30)) == .none)
    }

    @Test func handshakeTimesOut() {
        var state = EngineIOClientState(transport: .polling, now: ms(0), handshakeTimeout: 5000)
        #expect(state.checkLiveness(now: ms(4999)) == .alive(until: ms(5000)))
        #expect(state.send(.message([]), now: ms(100)) == .refused(.notOpen))
        #expect(state.checkLiveness(now: ms(5000)) == .dead)
        #expect(state.isClosed)
    }

    @Test func livenessDeadlineMovesWithEveryPacket() {
        var state = opened()
        #expect(state.deadline == ms(45_010))
        #expect(state.checkLiveness(now: ms(45_009)) == .alive(until: ms(45_010)))
        _ = state.received(.ping([]), now: ms(25_000))
        #expect(state.deadline == ms(70_000))
        _ = state.received(.message([]), now: ms(30_000))
        #expect(state.checkLiveness(now: ms(60_000)) == .alive(until: ms(75_000)))
        // A late timer: the check happens long after the deadline and still declares death.
        #expect(state.checkLiveness(now: ms(200_000)) == .dead)
        #expect(state.deadline == nil)
        #expect(state.checkLiveness(now: ms(200_001)) == .dead)
    }

    @Test func sendChecksLivenessFirst() {
        var state = opened()
        #expect(state.send(.message(Array("2[\"a\"]".utf8)), now: ms(1000)) == .send(.message(Array("2[\"a\"]".utf8))))
        // The timer never fired, but the send notices the silence.
        #expect(state.send(.message([]), now: ms(45_010)) == .dead)
        #expect(state.send(.message([]), now: ms(45_011)) == .refused(.notOpen))
    }

    @Test func refusesPacketsOverMaxPayload() {
        var state = opened()
        let fits = EnginePacket.message([UInt8](repeating: 0x61, count: 99))
        let tooBig = EnginePacket.message([UInt8](repeating: 0x61, count: 100))
        #expect(state.send(fits, now: ms(1)) == .send(fits))
        #expect(state.send(tooBig, now: ms(1)) == .refused(.payloadTooLarge(size: 101, maxPayload: 100)))
        #expect(state.send(.binary([UInt8](repeating: 0, count: 101)), now: ms(1)) == .refused(.payloadTooLarge(size: 101, maxPayload: 100)))
        #expect(!state.isClosed)
    }

    @Test func serverCloseAndClientClose() {
        var state = opened()
        #expect(state.received(.close, now: ms(5)) == .closed)
        #expect(state.isClosed)
        var other = opened()
        #expect(other.close() == .close)
        #expect(other.close() == nil)
        var third = opened()
        third.transportClosed()
        #expect(third.isClosed)
    }

    @Test func upgradesPollingToWebSocket() {
        var state = opened(.polling)
        #expect(state.canUpgrade)
        #expect(state.startUpgrade() == .sendProbe(.ping(Array("probe".utf8))))
        #expect(!state.canUpgrade)
        if case .failed = state.startUpgrade() {} else { Issue.record("second probe allowed") }
        #expect(state.receivedOnProbe(.pong(Array("probe".utf8)), now: ms(50)) == .pausePolling)
        #expect(state.transport == .polling)
        #expect(state.pollingPaused() == .sendUpgrade(.upgrade))
        #expect(state.transport == .websocket)
        #expect(!state.canUpgrade)
    }

    @Test func upgradeFailures() {
        var state = opened(.polling)
        _ = state.startUpgrade()
        if case .failed = state.receivedOnProbe(.pong(Array("nope".utf8)), now: ms(1)) {} else { Issue.record("bad probe answer accepted") }
        #expect(state.canUpgrade)
        _ = state.startUpgrade()
        state.probeFailed()
        #expect(state.canUpgrade)
        if case .failed = state.pollingPaused() {} else { Issue.record("pause without probe accepted") }
        if case .failed = state.receivedOnProbe(.pong(Array("probe".utf8)), now: ms(1)) {} else { Issue.record("probe reply without probe") }
        var ws = opened(.websocket)
        if case .failed = ws.startUpgrade() {} else { Issue.record("websocket upgraded again") }
        var noOffer = EngineIOClientState(transport: .polling, now: ms(0))
        _ = noOffer.received(.open(EngineOpen(sid: "x", upgrades: [], pingInterval: 1, pingTimeout: 1)), now: ms(0))
        #expect(!noOffer.canUpgrade)
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func matchesSocketIOClientFormula() {
        // Values computed with socket.io-client's Backoff.duration for the same random inputs.
        var backoff = ReconnectBackoff()
        #expect([0, 0.25, 0.35, 0.1, 0.8].map { backoff.nextDelay(random: $0) } == [1000, 1750, 4700, 5000, 5000])
        #expect(backoff.attempts == 5)
        backoff.reset()
        #expect(backoff.nextDelay(random: 0.5) == 1250)
    }

    @Test func authRefusalPolicyIsSlowerAndCapped() {
        var backoff = ReconnectBackoff.authRefusal
        #expect((0..<5).map { _ in backoff.nextDelay(random: 0.3) } == [5750, 11500, 23000, 46000, 60000])
        for _ in 0..<200 { #expect(backoff.nextDelay(random: 0.99) <= 60_000) }
    }

    @Test func withoutJitterItDoubles() {
        var backoff = ReconnectBackoff(base: 100, max: 1000, randomization: 0)
        #expect((0..<6).map { _ in backoff.nextDelay(random: 0.7) } == [100, 200, 400, 800, 1000, 1000])
    }
}
