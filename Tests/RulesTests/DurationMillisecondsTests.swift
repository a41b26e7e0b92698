import Rules
import Testing

@Suite struct DurationMillisecondsTests {
    @Test func truncatesAndSaturates() {
        #expect(Duration.seconds(5).wholeMilliseconds == 5_000)
        #expect(Duration.milliseconds(1_500).wholeMilliseconds == 1_500)
        #expect(Duration.microseconds(1_999).wholeMilliseconds == 1)
        #expect(Duration.zero.wholeMilliseconds == 0)
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == Int.max)
    }
}
