import Testing
@testable import HTTP

@Test func placeholder() { #expect(Bool(true)) }
