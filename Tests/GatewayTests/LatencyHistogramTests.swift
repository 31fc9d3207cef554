import Gateway
import Testing

@Suite struct LatencyHistogramTests {
    /// The exact percentile of `sorted` by the nearest-rank rule the histogram approximates.
    private func exactPercentile(_ p: Double, of sorted: [Double]) -> Double {
        let rank = max(1, Int((p / 100 * Double(sorted.count)).rounded(.up)))
        return sorted[rank - 1]
    }

    @Test(arguments: [1.0, 10, 25, 50, 75, 90, 99, 99.9])
    func percentilesStayWithinThreePercentOfExactValues(p: Double) {
        var histogram = LatencyHistogram()
        var valuesMs: [Double] = []
        // 40 µs to 400 ms, spread over many powers of two.
        for step in 1...10_000 {
            let nanoseconds = UInt64(step) * UInt64(step) * 4 + 40_000
            histogram.record(nanoseconds: nanoseconds)
            valuesMs.append(Double(nanoseconds) / 1e6)
        }
        let exact = exactPercentile(p, of: valuesMs.sorted())
        let estimate = histogram.percentile(p)
        #expect(abs(estimate - exact) / exact < 0.03, "p\(p): \(estimate) vs \(exact)")
    }

    @Test(arguments: [0.05, 1.2, 2.0, 37.5, 250.0, 9_999.0, 600_000.0])
    func aConstantLatencyIsReportedWithinThreePercent(milliseconds: Double) {
        var histogram = LatencyHistogram()
        for _ in 0..<100 {
            histogram.record(nanoseconds: UInt64(milliseconds * 1e6))
        }
        for p in [0.0, 50, 99] {
            #expect(abs(histogram.percentile(p) - milliseconds) / milliseconds < 0.03)
        }
        #expect(histogram.percentile(100) == milliseconds)
        #expect(histogram.max == milliseconds)
    }

    @Test func countSumAndMaximumAreExact() {
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: 1_500_000)
        histogram.record(nanoseconds: 500)
        histogram.record(.milliseconds(3))
        histogram.record(.nanoseconds(-5))
        #expect(histogram.count == 4)
        #expect(histogram.sumNanoseconds == 4_500_500)
        #expect(histogram.maxNanoseconds == 3_000_000)
        #expect(histogram.max == 3.0)
        #expect(abs(histogram.sumSeconds - 0.0045005) < 1e-12)
    }

    @Test func anEmptyHistogramReportsZeros() {
        let histogram = LatencyHistogram()
        #expect(histogram.isEmpty)
        #expect(histogram.percentile(50) == 0)
        #expect(histogram.max == 0)
        #expect(histogram.bucketCounts() == Array(repeating: 0, count: 14))
    }

    @Test func percentilesNeverExceedTheMaximum() {
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: 1_000_100)
        #expect(histogram.percentile(50) <= histogram.max)
        #expect(histogram.percentile(99.9) <= histogram.max)
    }

    @Test func latenciesBeyondAnHourLandInTheTopBucketButKeepAnExactMaximum() {
        var histogram = LatencyHistogram()
        histogram.record(.seconds(7_200))
        #expect(histogram.count == 1)
        #expect(histogram.max == 7_200_000)
        #expect(histogram.percentile(50) > 4_000_000)
        #expect(histogram.bucketCounts(upperBoundsSeconds: [3_600, .infinity]) == [0, 1])
    }

    @Test func mergingEqualsRecordingEverythingInOne() {
        var first = LatencyHistogram()
        var second = LatencyHistogram()
        var both = LatencyHistogram()
        for step in 1...1_000 {
            let nanoseconds = UInt64(step) * 13_579
            if step % 3 == 0 {
                first.record(nanoseconds: nanoseconds)
            } else {
                second.record(nanoseconds: nanoseconds)
            }
            both.record(nanoseconds: nanoseconds)
        }
        var merged = LatencyHistogram()
        merged.merge(first)
        merged.merge(LatencyHistogram())
        merged.merge(second)
        #expect(merged.count == both.count)
        #expect(merged.sumNanoseconds == both.sumNanoseconds)
        #expect(merged.maxNanoseconds == both.maxNanoseconds)
        #expect(merged.bucketCounts() == both.bucketCounts())
        for p in [1.0, 50, 90, 99, 100] {
            #expect(merged.percentile(p) == both.percentile(p))
        }
    }

    @Test func bucketCountsAreCumulativeAndEndWithTheTotal() {
        var histogram = LatencyHistogram()
        for milliseconds in [0.5, 1.0, 3.0, 20.0, 2_000.0, 30_000.0] {
            histogram.record(nanoseconds: UInt64(milliseconds * 1e6))
        }
        #expect(
            histogram.bucketCounts() == [2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 6]
        )
        #expect(LatencyHistogram.defaultUpperBoundsSeconds.last == .infinity)
    }

    @Test func resetForgetsEverything() {
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: 42_000_000)
        histogram.reset()
        #expect(histogram.isEmpty)
        #expect(histogram.sumNanoseconds == 0)
        #expect(histogram.bucketCounts() == Array(repeating: 0, count: 14))
        histogram.record(nanoseconds: 1_000_000)
        #expect(histogram.percentile(50) == 1.0)
    }
}
