import Foundation
import JSON
import Testing
import TestSupport

/// Polling at parity with socket.io-client (issue 12, items 3 and 4), through `mojo-bridge tail`
/// against Tests/Peers/recovery_server.py (python-engineio: its polling GET takes every queued
/// packet in one response, as a Node server does; no content limit like the dev server's).
@Suite struct PollingParityTests {
    /// Issue 12 item 3: a 2.28 MB message dropped the polling session ("response larger than
    /// maxResponseBytes (2000000)").
    @Test func aMessageOverTwoMillionBytesArrivesOverPolling() throws {
        let peer = try RecoveryPeer()
        let tail = try peer.tail(transport: "polling")
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let text = String(repeating: "z", count: 2_300_000)
        let big: JSONValue = ["marker": .string("big-\(UUID().uuidString)"), "text": .string(text)]
        let after = RecoveryPeer.event("after")
        try peer.emit(big)
        try peer.emit(after)
        // Once the next event is printed, the big one's line is complete.
        #expect(tail.waitFor(after, timeout: 60) != nil, "not printed\n\(tail.process.stderr)")
        let printed = tail.printedData()
        #expect(printed.count == 2)
        #expect(printed.first??["text"]?.stringValue?.utf8.count == 2_300_000, "the big message was not printed whole")
        #expect(printed.last == after)
        #expect(tail.count("msg=connected") == 1, "the session was dropped\n\(tail.process.stderr)")
        tail.expectCleanStop(transport: "polling")
    }

    /// Issue 12 item 3: a burst of 1,000 messages of 2.5 KB flushed by the server in one polling
    /// response (2.5 MB): 999 were lost. All arrive, once, in order.
    @Test func aBurstOfAThousandMessagesArrivesWholeOverPolling() throws {
        let peer = try RecoveryPeer()
        let tail = try peer.tail(transport: "polling")
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let run = UUID().uuidString
        let filler = String(repeating: "b", count: 2500)
        let batch: [JSONValue] = (0..<1000).map { ["marker": .string("burst-\(run)-\($0)-"), "text": .string(filler)] }
        let answer = try peer.control.post("/control/emit", ["name": "message:new", "batch": .array(batch)])
        #expect(answer["emitted"]?.intValue == 1000)
        #expect(tail.waitFor(batch[999], timeout: 60) != nil, "the last one was not printed\n\(tail.process.stderr)")
        let markers = tail.printedData().compactMap { $0?["marker"]?.stringValue }
        #expect(markers == batch.compactMap { $0["marker"]?.stringValue }, "printed \(markers.count) of 1000")
        #expect(tail.count("msg=connected") == 1, "the session was dropped\n\(tail.process.stderr)")
        tail.expectCleanStop(transport: "polling")
    }

    /// Issue 12 item 4: after a client-side ping timeout (the server frozen with SIGSTOP, then
    /// SIGCONT) the reconnect is recovered: the client closed the old Engine.IO session (a close
    /// packet, no Socket.IO DISCONNECT), so the server had let it go and replays what it missed,
    /// instead of meeting a ghost session still alive. What is emitted after the thaw is printed
    /// exactly once, whether it was replayed or arrived on the new connection.
    @Test(arguments: ["polling", "websocket"])
    func aReconnectAfterAClientSidePingTimeoutIsRecovered(transport: String) throws {
        let peer = try RecoveryPeer(arguments: ["--ping-interval", "1", "--ping-timeout", "1"])
        let tail = try peer.tail(transport: transport)
        defer { tail.stop() }
        try #require(tail.process.waitForStderr("msg=connected"), "\(tail.process.stderr)")
        let e1 = RecoveryPeer.event("e1")
        try peer.emit(e1)
        #expect(tail.waitFor(e1) != nil, "e1 not printed\n\(tail.process.stderr)")
        peer.freeze()
        let timedOut = tail.process.waitForStderr("ping timeout", timeout: 30)
        peer.thaw()
        try #require(timedOut, "no client-side ping timeout\n\(tail.process.stderr)")
        let gap = RecoveryPeer.event("gap")
        try peer.emit(gap)
        let second = try #require(try peer.connects(2).dropFirst().first, "no reconnect\n\(tail.process.stderr)")
        #expect(second["recovered"]?.boolValue == true, "not recovered: \(second.serialized())\n\(peer.trace)")
        #expect(tail.process.waitForStderr("msg=\"connected (session recovered)\""), "\(tail.process.stderr)")
        #expect(tail.waitFor(gap) != nil, "the gap's event was lost\n\(peer.trace)\n\(tail.process.stderr)")
        let e3 = RecoveryPeer.event("e3")
        try peer.emit(e3)
        #expect(tail.waitFor(e3) != nil, "e3 not printed\n\(tail.process.stderr)")
        #expect(tail.printedData() == [e1, gap, e3], "printed:\n\(tail.process.stdout)\npackets:\n\(peer.trace)")
        tail.expectCleanStop(transport: transport)
    }
}
