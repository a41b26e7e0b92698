import Testing
@testable import Mojo

@Test func moduleLinks() {
    #expect(Bool(true))
}
