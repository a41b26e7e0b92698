import Testing
@testable import SocketIO

@Test func placeholder() { #expect(Bool(true)) }
