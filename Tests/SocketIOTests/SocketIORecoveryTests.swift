import JSON
import Testing
@testable import SocketIO

/// Connection state recovery (Socket.IO 4.6+), scripted as a Node server would behave.
@Suite struct SocketIORecoveryTests {
    private let open = EngineOpen(sid: "e1")
    private func ms(_ n: Int) -> MonotonicInstant { .milliseconds(n) }
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    private func eventArgs(_ s: String) -> SocketIOEventArguments { SocketIOEventArguments(json: bytes(s))! }

    private func feed(_ state: inout SocketIOClientState, _ text: String) throws -> [SocketIOClientAction] {
        try Array(text.utf8).withUnsafeBytes { raw in
            Result { () throws(SocketIOError) in try state.received(text: raw, now: ms(0)) }
        }.get()
    }

    @Test func recoversAndDeliversHeldEventsAfterTheReply() throws {
        var state = SocketIOClientState()
        #expect(state.transportOpened(open, auth: ["token": "t1"], now: ms(0)).first == .send(bytes(#"0{"token":"t1"}"#)))
        #expect(try feed(&state, #"0{"sid":"s1","pid":"P"}"#) == [.connected(sid: "s1", recovered: false)])
        #expect(state.pid == "P")
        #expect(try feed(&state, #"2["message:new",{"id":1},"off-1"]"#) == [.event(name: "message:new", args: eventArgs(#"[{"id":1}]"#), ackId: nil)])
        #expect(state.offset == "off-1")
        // Events with an ack id carry no offset.
        #expect(try feed(&state, #"23["ask","x"]"#) == [.event(name: "ask", args: eventArgs(#"["x"]"#), ackId: 3)])
        #expect(state.offset == "off-1")
        #expect(try feed(&state, #"2["message:new",{"id":2},"off-2"]"#).count == 1)
        #expect(state.transportClosed(.transportClose) == [.disconnected(.transportClose)])

        // Reconnect with a fresh token; pid and offset ride along.
        #expect(state.transportOpened(open, auth: ["token": "t2"], now: ms(1000)).first
            == .send(bytes(#"0{"token":"t2","pid":"P","offset":"off-2"}"#)))
        // The replay arrives before the CONNECT reply: held, not delivered.
        #expect(try feed(&state, #"2["message:new",{"id":3},"off-3"]"#) == [])
        #expect(try feed(&state, #"2["typing:start",{"c":1},"off-4"]"#) == [])
        #expect(try feed(&state, #"0{"sid":"s2","pid":"P"}"#) == [
            .connected(sid: "s2", recovered: true),
            .event(name: "message:new", args: eventArgs(#"[{"id":3}]"#), ackId: nil),
            .event(name: "typing:start", args: eventArgs(#"[{"c":1}]"#), ackId: nil),
        ])
        #expect(state.offset == "off-4")
    }

    @Test func failedRecoveryStartsAfresh() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: [:], now: ms(0))
        _ = try feed(&state, #"0{"sid":"s1","pid":"P"}"#)
        _ = try feed(&state, #"2["a","o1"]"#)
        _ = state.transportClosed(.pingTimeout)
        _ = state.transportOpened(open, auth: [:], now: ms(0))
        #expect(try feed(&state, #"0{"sid":"s2","pid":"Q"}"#) == [.connected(sid: "s2", recovered: false)])
        #expect(state.pid == "Q")
        #expect(state.offset == nil)
    }

    @Test func noOffsetMeansNoRecoveryAttempt() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: ["token": "t"], now: ms(0))
        _ = try feed(&state, #"0{"sid":"s1","pid":"P"}"#)
        _ = state.transportClosed(.transportClose)
        #expect(state.transportOpened(open, auth: ["token": "t"], now: ms(0)).first == .send(bytes(#"0{"token":"t"}"#)))
        #expect(try feed(&state, #"0{"sid":"s2","pid":"P"}"#) == [.connected(sid: "s2", recovered: false)])
    }

    @Test func serverDisconnectForgetsTheSession() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: [:], now: ms(0))
        _ = try feed(&state, #"0{"sid":"s1","pid":"P"}"#)
        _ = try feed(&state, #"2["a","o1"]"#)
        _ = try feed(&state, "1")
        #expect(state.pid == nil)
        #expect(state.offset == nil)
        #expect(state.transportOpened(open, auth: [:], now: ms(0)).first == .send(bytes("0")))
    }

    @Test func recoveryOffLeavesArgumentsAlone() throws {
        var state = SocketIOClientState(recovery: false)
        _ = state.transportOpened(open, auth: [:], now: ms(0))
        _ = try feed(&state, #"0{"sid":"s1","pid":"P"}"#)
        #expect(try feed(&state, #"2["a",1,"o1"]"#) == [.event(name: "a", args: eventArgs(#"[1,"o1"]"#), ackId: nil)])
        #expect(state.offset == nil)
        _ = state.transportClosed(.transportClose)
        #expect(state.transportOpened(open, auth: [:], now: ms(0)).first == .send(bytes("0")))
    }

    @Test func withoutPidNothingIsStripped() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: [:], now: ms(0))
        _ = try feed(&state, #"0{"sid":"s1"}"#)
        #expect(try feed(&state, #"2["a","not-an-offset"]"#) == [.event(name: "a", args: eventArgs(#"["not-an-offset"]"#), ackId: nil)])
    }

    @Test func heldEventsAreBounded() throws {
        var configuration = SocketIOClientState.Configuration()
        configuration.heldEventLimit = 2
        var state = SocketIOClientState(configuration: configuration)
        _ = state.transportOpened(open, auth: [:], now: ms(0))
        for i in 0..<3 { _ = try feed(&state, "2[\"e\(i)\"]") }
        #expect(state.droppedHeldEvents == 1)
        let actions = try feed(&state, #"0{"sid":"s"}"#)
        #expect(actions.dropFirst() == [.event(name: "e1", args: eventArgs("[]"), ackId: nil), .event(name: "e2", args: eventArgs("[]"), ackId: nil)])
    }

    @Test func binaryEventsAreReassembledBeforeDelivery() throws {
        var state = SocketIOClientState()
        _ = state.transportOpened(open, auth: [:], now: ms(0))
        _ = try feed(&state, #"0{"sid":"s"}"#)
        #expect(try feed(&state, #"51-["file",{"_placeholder":true,"num":0}]"#) == [])
        #expect(try state.received(binary: [1, 2, 3], now: ms(0)) == [.event(name: "file", args: eventArgs(#"[{"_binary":"AQID"}]"#), ackId: nil)])
        #expect(throws: SocketIOError.unexpectedBinary) { try state.received(binary: [1], now: ms(0)) }
    }
}
