import Testing
@testable import Curl

@Test func placeholder() { #expect(Bool(true)) }
