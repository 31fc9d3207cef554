import Gateway
import PorticoTesting
import Testing

@Suite struct TimeSpanTests {
    @Test func convertsMillisecondsBothWays() {
        #expect(TimeSpan.milliseconds(1500).nanoseconds == 1_500_000_000)
        #expect(TimeSpan.milliseconds(1500).milliseconds == 1500)
        #expect(TimeSpan.seconds(2) == .milliseconds(2000))
        #expect(TimeSpan.nanoseconds(1).millisecondsRoundedUp == 1)
        #expect(TimeSpan.nanoseconds(1).milliseconds == 0)
    }

    @Test func saturatesInsteadOfOverflowing() {
        #expect(TimeSpan.milliseconds(Int.max) == .max)
        #expect(TimeSpan.max + .milliseconds(1) == .max)
        #expect(Instant(nanoseconds: .max - 1) + .seconds(1) == .distantFuture)
        #expect(Instant(nanoseconds: 5) - .seconds(1) == .zero)
    }

    @Test func measuresBetweenInstants() {
        let start = Instant(nanoseconds: 1_000)
        let later = start + .milliseconds(3)
        #expect(later - start == .milliseconds(3))
        #expect(start - later == .milliseconds(-3))
        #expect(start < later)
    }

    @Test func manualClockMovesOnlyWhenAdvanced() {
        let clock = ManualClock()
        let first = clock.now
        #expect(clock.now == first)
        clock.advance(by: .milliseconds(250))
        #expect(clock.now - first == .milliseconds(250))
    }
}
