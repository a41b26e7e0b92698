import Testing
@testable import WebSocket

@Test func placeholder() { #expect(Bool(true)) }
