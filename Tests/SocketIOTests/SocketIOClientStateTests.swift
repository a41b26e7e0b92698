import JSON
import Testing
@testable import SocketIO

/// Scripted sessions: every input is a call, every output an action, time is a number.
@Suite struct SocketIOClientStateTests {
    private let open = EngineOpen(sid: "e1")
    private let auth: JSONObject = ["token": "jwt-1", "tenantId": "org_1"]
    private func ms(_ n: Int) -> MonotonicInstant { .milliseconds(n) }
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    private func eventArgs(_ s: String) -> SocketIOEventArguments { SocketIOEventArguments(json: bytes(s))! }

    private func feed(_ state: inout SocketIOClientState, _ text: String, at time: Int = 0) throws -> [SocketIOClientAction] {
        try Array(text.utf8).withUnsafeBytes { raw in
            Result { () throws(SocketIOError) in try state.received(text: raw, now: ms(time)) }
        }.get()
    }

    private func connected(_ configuration: SocketIOClientState.Configuration = .init()) throws -> SocketIOClientState {
        var state = SocketIOClientState(configuration: configuration)
        _ = state.transportOpened(open, auth: auth, now: ms(0))
        _ = try feed(&state, #"0{"sid":"abc"}"#)
        return state
    }

    @Test func connectsWithAuth() throws {
        var state = SocketIOClientState()
        #expect(state.transportOpened(open, auth: auth, now: ms(0)) == [
            .send(bytes(#"0{"token":"jwt-1","tenantId":"org_1"}"#)), .armTimer(.connect, deadline: ms(20_000)),
        ])
        #expect(state.phase == .connecting)
        #expect(try feed(&state, #"0{"sid":"abc"}"#) == [.connected(sid: "abc", recovered: false)])
        #expect(state.phase == .connected(sid: "abc"))
        #expect(state.timerFired(.connect, now: ms(20_000)) == [])
    }

    @Test func namespacedConnectWithoutAuth() throws {
        var state = SocketIOClientState(namespace: "/chat")
        #expect(state.transportOpened(open, auth: [:], now: ms(0)).first == .send(bytes("0/chat,")))
        #expect(try feed(&state, #"0{"sid":"abc"}"#) == [])
        #expect(try feed(&state, #"0/chat,{"sid":"abc"}"#) == [.connected(sid: "abc", recovered: false)])
        #expect(try feed(&state, #"2/chat,["x",1]"#) == [.event(name: "x", args: eventArgs("[1]"), ackId: nil)])
        #expect(try feed(&state, #"2["x",1]"#) == [])
    }

    @Test func connectTimesOut() {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: auth, now: ms(0))
        #expect(state.timerFired(.connect, now: ms(19_999)) == [.armTimer(.connect, deadline: ms(20_000))])
        #expect(state.timerFired(.connect, now: ms(25_000)) == [.connectTimedOut])
        #expect(state.phase == .disconnected)
    }

    @Test func deliversEventsWithArguments() throws {
        var state = try connected()
        #expect(try feed(&state, #"2["message:new",{"id":"m1"},2]"#) == [.event(name: "message:new", args: eventArgs(#"[{"id":"m1"},2]"#), ackId: nil)])
        #expect(try feed(&state, #"2["ping"]"#) == [.event(name: "ping", args: eventArgs("[]"), ackId: nil)])
        #expect(try feed(&state, #"27[ "ask" , 1 ]"#) == [.event(name: "ask", args: eventArgs("[1]"), ackId: 7)])
        #expect(state.acknowledge(id: 7, args: ["ok"]) == [.send(bytes(#"37["ok"]"#))])
        #expect(throws: SocketIOError.reservedEventName("connect")) { try feed(&state, #"2["connect"]"#) }
    }

    @Test func serverDisconnect() throws {
        var state = try connected()
        #expect(try feed(&state, "1") == [.disconnected(.serverDisconnect)])
        #expect(state.phase == .disconnected)
        #expect(try feed(&state, #"2["late"]"#) == [])
        #expect(state.transportClosed(.transportClose) == [])
    }

    @Test func clientDisconnect() throws {
        var state = try connected()
        #expect(state.disconnect() == [.send(bytes("1")), .disconnected(.clientDisconnect)])
        #expect(state.disconnect() == [])
    }

    @Test func connectErrorAsObject() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: auth, now: ms(0))
        #expect(try feed(&state, #"4{"message":"Unauthorized","data":{"code":401}}"#) == [.connectError(message: "Unauthorized", data: ["code": 401])])
        #expect(state.phase == .disconnected)
    }

    @Test func connectErrorAsString() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: auth, now: ms(0))
        #expect(try feed(&state, #"4"Unable to connect""#) == [.connectError(message: "Unable to connect", data: nil)])
    }

    @Test func connectReplyWithoutSidIsARefusal() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: auth, now: ms(0))
        #expect(try feed(&state, #"0{"x":1}"#) == [.connectError(message: "invalid CONNECT reply (no sid)", data: ["x": 1])])
    }

    @Test func buffersUntilConnectedAndFlushesInOrder() throws {
        var state = SocketIOClientState()
        let first = state.emit("message:send", args: [["content": "a"]], now: ms(0))
        #expect(first == SocketIOEmitResult(status: .buffered, ackId: nil, actions: []))
        let second = state.emit("typing:start", rawArgs: bytes(#" [ {"conversationId":"c"} ] "#), wantsAck: true, now: ms(0))
        #expect(second.status == .buffered)
        #expect(second.ackId == 0)
        #expect(second.actions == [.armTimer(.ack(0), deadline: ms(10_000))])
        #expect(state.bufferedCount == 2)
        _ = state.transportOpened(open, auth: auth, now: ms(5))
        #expect(try feed(&state, #"0{"sid":"abc"}"#) == [
            .connected(sid: "abc", recovered: false),
            .send(bytes(#"2["message:send",{"content":"a"}]"#)),
            .send(bytes(#"20["typing:start",{"conversationId":"c"}]"#)),
        ])
        #expect(state.bufferedCount == 0)
        let now = state.emit("x", args: [], now: ms(6))
        #expect(now == SocketIOEmitResult(status: .sent, ackId: nil, actions: [.send(bytes(#"2["x"]"#))]))
    }

    @Test func bufferFullDropsOldest() {
        var configuration = SocketIOClientState.Configuration()
        configuration.bufferLimit = 2
        var state = SocketIOClientState(configuration: configuration)
        _ = state.emit("a", args: [], wantsAck: true, now: ms(0))
        _ = state.emit("b", args: [], now: ms(0))
        let third = state.emit("c", args: [], now: ms(0))
        #expect(third.status == .buffered)
        #expect(third.actions == [.ackCancelled(id: 0)])
        #expect(state.droppedEmits == 1)
        #expect(state.bufferedCount == 2)
        #expect(state.pendingAckIds == [])
    }

    @Test func bufferFullRefusesNewest() {
        var configuration = SocketIOClientState.Configuration()
        configuration.bufferLimit = 1
        configuration.bufferPolicy = .refuseNewest
        var state = SocketIOClientState(configuration: configuration)
        _ = state.emit("a", args: [], now: ms(0))
        #expect(state.emit("b", args: [], wantsAck: true, now: ms(0)) == SocketIOEmitResult(status: .refused, ackId: nil, actions: []))
        #expect(state.bufferedCount == 1)
        #expect(state.droppedEmits == 0)
    }

    @Test func refusesReservedNamesAndBadRawArgs() throws {
        var state = try connected()
        #expect(state.emit("disconnect", args: [], now: ms(0)).status == .refused)
        #expect(state.emit("x", rawArgs: bytes("{}"), now: ms(0)).status == .refused)
        #expect(state.emit("x", rawArgs: bytes("[1,"), now: ms(0)).status == .refused)
        #expect(state.emit("x", rawArgs: bytes("[]"), now: ms(0)).actions == [.send(bytes(#"2["x"]"#))])
    }

    @Test func ackIdsCountFromZeroAndResolve() throws {
        var state = try connected()
        let a = state.emit("a", args: [1], wantsAck: true, now: ms(100))
        #expect(a.actions == [.send(bytes(#"20["a",1]"#)), .armTimer(.ack(0), deadline: ms(10_100))])
        let b = state.emit("b", args: [], wantsAck: true, now: ms(100))
        #expect(b.ackId == 1)
        #expect(try feed(&state, #"31[{"ok":true}]"#) == [.ack(id: 1, args: bytes(#"[{"ok":true}]"#))])
        #expect(try feed(&state, #"31[]"#) == [])
        #expect(state.pendingAckIds == [0])
    }

    @Test func ackTimesOut() throws {
        var state = try connected()
        _ = state.emit("a", args: [], wantsAck: true, now: ms(0))
        _ = state.emit("b", args: [], wantsAck: true, now: ms(5000))
        #expect(state.timerFired(.ack(0), now: ms(9999)) == [.armTimer(.ack(0), deadline: ms(10_000))])
        #expect(state.timerFired(.ack(0), now: ms(10_000)) == [.ackTimedOut(id: 0)])
        #expect(state.timerFired(.ack(0), now: ms(10_001)) == [])
        #expect(try feed(&state, "30[]") == [])
        #expect(state.expireAcks(now: ms(14_999)) == [])
        #expect(state.expireAcks(now: ms(15_000)) == [.ackTimedOut(id: 1)])
    }

    @Test func transportLossCancelsSentAcksButKeepsBufferedOnes() throws {
        var state = try connected()
        _ = state.emit("sent", args: [], wantsAck: true, now: ms(0))
        #expect(state.transportClosed(.pingTimeout) == [.ackCancelled(id: 0), .disconnected(.pingTimeout)])
        _ = state.emit("queued", args: [], wantsAck: true, now: ms(1))
        #expect(state.transportClosed(.transportClose) == [])
        #expect(state.pendingAckIds == [1])
    }

    @Test func arrayEntryPointDeliversTheSameEventsWithoutCopying() throws {
        var viaText = try connected()
        var viaMessage = try connected()
        for text in [#"2["message:new",{"id":"m1","s":"a\"b"},2]"#, #"2["ping"]"#, #"27[ "ask" , 1 ]"#, #"2/other,["x"]"#, "30[]"] {
            let message = bytes(text)
            #expect(try viaMessage.received(message: message, now: ms(0)) == feed(&viaText, text))
        }
        let actions = try viaMessage.received(message: bytes(#"2["e", {"a":1} , [2]]"#), now: ms(0))
        guard case .event(_, let args, _)? = actions.first else { Issue.record("no event"); return }
        #expect(args.count == 2)
        #expect(args.json == bytes(#"[{"a":1} , [2]]"#))
        #expect(args.withFirst { Array($0) } == bytes(#"{"a":1}"#))
        #expect(eventArgs("[]").withFirst { $0.count } == 0)
        #expect(SocketIOEventArguments(json: bytes("{}")) == nil)
    }

    @Test func reservedNamesMatchTheSet() {
        for name in SocketPacket.reservedEventNames { #expect(SocketPacket.isReserved(name)) }
        for name in ["message:new", "", "Connect", "connect ", "disconnected"] { #expect(!SocketPacket.isReserved(name)) }
    }
}
