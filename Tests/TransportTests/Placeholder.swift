import Testing
@testable import Transport

@Test func placeholder() { #expect(Bool(true)) }
