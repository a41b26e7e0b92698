import Testing
@testable import Rules

@Test func placeholder() { #expect(Bool(true)) }
