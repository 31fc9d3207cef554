import Gateway
import PorticoTesting
import Testing

@Suite struct StatsWindowTests {
    @Test func aWindowCoversTheLastMinuteByDefault() {
        #expect(WindowedHistogram().window == .seconds(60))
    }

    @Test func latenciesExpireOnceTheirSlotLeavesTheWindow() {
        let clock = ManualClock(start: Instant(nanoseconds: 1_000_000_000))
        var window = WindowedHistogram()
        window.record(nanoseconds: 5_000_000, at: clock.now)
        clock.advance(by: .seconds(30))
        window.record(nanoseconds: 7_000_000, at: clock.now)
        #expect(window.snapshot(at: clock.now).count == 2)

        clock.advance(by: .seconds(20))  // 51 s: the first slot is the oldest still shown
        #expect(window.snapshot(at: clock.now).count == 2)

        clock.advance(by: .seconds(10))  // 61 s: the first slot has left
        let snapshot = window.snapshot(at: clock.now)
        #expect(snapshot.count == 1)
        #expect(snapshot.max == 7.0)

        clock.advance(by: .seconds(60))
        #expect(window.snapshot(at: clock.now).isEmpty)
    }

    @Test func aReusedSlotStartsFromZero() {
        let clock = ManualClock(start: Instant(nanoseconds: 0))
        var window = WindowedHistogram(slotCount: 3, slotSpan: .seconds(1))
        window.record(nanoseconds: 9_000_000, at: clock.now)
        clock.advance(by: .seconds(3))  // same slot index, three periods later
        window.record(nanoseconds: 1_000_000, at: clock.now)
        let snapshot = window.snapshot(at: clock.now)
        #expect(snapshot.count == 1)
        #expect(snapshot.max == 1.0)
    }

    @Test func mergingWorkersKeepsTheNewestPeriodOfEachSlot() {
        let clock = ManualClock(start: Instant(nanoseconds: 0))
        var first = WindowedHistogram()
        var second = WindowedHistogram()
        first.record(nanoseconds: 1_000_000, at: clock.now)
        clock.advance(by: .seconds(15))
        first.record(nanoseconds: 2_000_000, at: clock.now)
        second.record(nanoseconds: 3_000_000, at: clock.now)
        clock.advance(by: .seconds(50))  // 65 s: slot 0 now belongs to period 6
        second.record(nanoseconds: 4_000_000, at: clock.now)

        first.merge(second)
        let snapshot = first.snapshot(at: clock.now)
        #expect(snapshot.count == 3)
        #expect(snapshot.max == 4.0)
        #expect(snapshot.percentile(0) == 2.0)
    }
}
