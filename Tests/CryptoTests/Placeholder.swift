import Testing
@testable import Crypto

@Test func placeholder() { #expect(Bool(true)) }
