import JSON
import Mojo
import SocketIO
import TestKit
import Testing
import Transport

/// Records what a `TenantSession` reports.
final class SessionRecorder: TenantSessionDelegate {
    var connects: [Bool] = []
    var events: [(name: String, data: String)] = []
    var disconnects: [(failure: ConnectionFailure?, reconnectInMs: Int?)] = []
    func sessionDidConnect(_ session: TenantSession, recovered: Bool) { connects.append(recovered) }
    func session(_ session: TenantSession, event name: String, data: UnsafeRawBufferPointer) {
        events.append((name, String(decoding: data, as: UTF8.self)))
    }
    func session(_ session: TenantSession, didDisconnect failure: ConnectionFailure?, reconnectInMs: Int?) {
        disconnects.append((failure, reconnectInMs))
    }
}

/// `TenantSession` against a scripted MOJO server on virtual time: connect, events, commands,
/// reconnect backoff, the auth backoff and the ping timeout, with exact delays and no sockets.
@Suite struct SessionKitTests {
    let clock = VirtualClock()
    let mojo: FakeMojo
    let loop: EventLoop
    let recorder = SessionRecorder()

    init() throws {
        mojo = FakeMojo(clock: clock)
        loop = try EventLoop()
    }

    func session(backoff: ReconnectBackoff = ReconnectBackoff(base: 1000, max: 5000, randomization: 0)) -> TenantSession {
        var c = FakeMojo.configuration(tenant: "org_a")
        c.backoff = backoff
        c.authBackoff = ReconnectBackoff(base: 5000, max: 60_000, randomization: 0)
        return mojo.session(configuration: c, loop: loop, delegate: recorder)
    }

    @Test func connectsReceivesEventsAndEmitsCommands() {
        let s = session()
        s.start()
        clock.runDue()
        #expect(s.isConnected && recorder.connects == [false])
        #expect(s.selfUserId == "bridge_bot")
        mojo.current!.sendEvent("message:new", .object(JSONObject([("conversationId", .string("c1")), ("content", .string("hi"))])))
        #expect(recorder.events.map(\.name) == ["message:new"])
        #expect(recorder.events.first?.data == #"{"conversationId":"c1","content":"hi"}"#)
        s.emit(.send(conversationId: "c1", content: "hello"))
        let emit = mojo.current!.emitted.last
        #expect(emit?.name == "message:send" && emit?.data["conversationId"]?.stringValue == "c1")
    }

    @Test func reconnectDelaysGrowToTheCapAndResetAfterAConnect() {
        mojo.failConnections = .closedByServer(peer: "mojo.invalid:1", detail: "refused")
        let s = session()
        s.start()
        clock.advance(until: { self.mojo.attemptTimesMs.count == 6 })
        let gaps = zip(mojo.attemptTimesMs.dropFirst(), mojo.attemptTimesMs).map { $0 - $1 }
        #expect(gaps == [1000, 2000, 4000, 5000, 5000])
        #expect(recorder.disconnects.map(\.reconnectInMs) == [1000, 2000, 4000, 5000, 5000, 5000])
        mojo.failConnections = nil
        clock.advance(until: { s.isConnected })
        // A kick after a successful connect starts the schedule again at the base.
        let kickedAt = clock.elapsedMs
        mojo.current!.kick()
        clock.advance(until: { s.isConnected })
        #expect(mojo.attemptTimesMs.last! - kickedAt == 1000)
        #expect(s.reconnects == 1)
    }

    @Test func aRefusedTokenWaitsTheLongerAuthDelays() {
        mojo.refuseWith = "invalid token"
        let s = session()
        s.start()
        clock.advance(until: { self.mojo.attemptTimesMs.count == 3 })
        let gaps = zip(mojo.attemptTimesMs.dropFirst(), mojo.attemptTimesMs).map { $0 - $1 }
        #expect(gaps == [5000, 10_000])
        #expect(!s.isConnected)
        if case .authRefused(let message)? = recorder.disconnects.last?.failure { #expect(message == "invalid token") } else {
            Issue.record("expected an auth refusal, got \(String(describing: recorder.disconnects.last?.failure))")
        }
    }

    @Test func aSilentServerIsDetectedAtPingIntervalPlusTimeout() {
        mojo.pingInterval = 25_000
        mojo.pingTimeout = 20_000
        let s = session()
        s.start()
        clock.runDue()
        #expect(s.isConnected)
        // Pings keep the session alive, and each is answered.
        clock.advance(byMilliseconds: 100_000)
        #expect(s.isConnected && mojo.current!.pongs == 4)
        let silentFrom = clock.elapsedMs
        mojo.current!.goSilent()
        // The last ping came at 100 s; nothing arrives after it.
        clock.advance(until: { !s.isConnected })
        let detectedAfter = clock.elapsedMs - silentFrom
        #expect(detectedAfter == 45_000, "detected after \(detectedAfter) ms")
        if case .pingTimeout? = recorder.disconnects.last?.failure {} else {
            Issue.record("expected a ping timeout, got \(String(describing: recorder.disconnects.last?.failure))")
        }
        // And it reconnects after the first backoff delay.
        clock.advance(until: { s.isConnected })
        #expect(mojo.connections.count == 2)
    }

    @Test func emitsWhileDisconnectedAreFlushedInOrderAfterTheReconnect() {
        let s = session()
        s.start()
        clock.runDue()
        mojo.current!.kick()
        for i in 0..<3 { s.emit(.send(conversationId: "c1", content: "m\(i)")) }
        #expect(s.bufferedEmits == 3)
        clock.advance(until: { s.isConnected })
        let sent = mojo.current!.emitted.filter { $0.name == "message:send" }.compactMap { $0.data["content"]?.stringValue }
        #expect(sent == ["m0", "m1", "m2"] && s.bufferedEmits == 0)
    }
}
