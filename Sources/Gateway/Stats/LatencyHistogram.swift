/// Request latencies of one worker, bucketed log-linearly so percentiles stay within about 3%.
///
/// A plain value owned by one worker: recording takes no lock. The bucket storage (7 KB) is
/// allocated on the first ``record(nanoseconds:)`` or ``merge(_:)`` and never again; ``reset()``
/// zeroes it in place. Count, sum and maximum are exact; percentiles and Prometheus buckets are
/// as precise as the buckets (see ``HistogramBuckets``).
public struct LatencyHistogram: Sendable {
    /// The conventional Prometheus bucket bounds for request durations, in seconds, ending with +Inf.
    public static let defaultUpperBoundsSeconds: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, .infinity,
    ]

    private var counts: [UInt64] = []

    /// How many latencies were recorded.
    public private(set) var count: UInt64 = 0

    /// The sum of every recorded latency in nanoseconds, saturating.
    public private(set) var sumNanoseconds: UInt64 = 0

    /// The largest recorded latency in nanoseconds; 0 when empty.
    public private(set) var maxNanoseconds: UInt64 = 0

    /// Creates an empty histogram; it allocates nothing until something is recorded.
    public init() {}

    /// Whether nothing was recorded.
    public var isEmpty: Bool { count == 0 }

    /// The largest recorded latency in milliseconds; 0 when empty.
    public var max: Double { Double(maxNanoseconds) / 1e6 }

    /// The sum of every recorded latency in seconds, as the Prometheus `_sum` sample wants it.
    public var sumSeconds: Double { Double(sumNanoseconds) / 1e9 }

    /// Records one latency.
    public mutating func record(nanoseconds: UInt64) {
        if counts.isEmpty {
            counts = Array(repeating: 0, count: HistogramBuckets.count)
        }
        counts[HistogramBuckets.index(ofMicroseconds: nanoseconds / 1_000)] &+= 1
        count &+= 1
        let (sum, overflow) = sumNanoseconds.addingReportingOverflow(nanoseconds)
        sumNanoseconds = overflow ? .max : sum
        maxNanoseconds = Swift.max(maxNanoseconds, nanoseconds)
    }

    /// Records one latency given as a span; a negative span counts as zero.
    public mutating func record(_ span: TimeSpan) {
        record(nanoseconds: span.nanoseconds > 0 ? UInt64(span.nanoseconds) : 0)
    }

    /// Adds every latency recorded in `other`, as if they had been recorded here.
    public mutating func merge(_ other: LatencyHistogram) {
        guard !other.isEmpty else { return }
        if counts.isEmpty {
            counts = other.counts
        } else {
            counts.withUnsafeMutableBufferPointer { mine in
                other.counts.withUnsafeBufferPointer { theirs in
                    for index in mine.indices {
                        mine[index] &+= theirs[index]
                    }
                }
            }
        }
        count &+= other.count
        let (sum, overflow) = sumNanoseconds.addingReportingOverflow(other.sumNanoseconds)
        sumNanoseconds = overflow ? .max : sum
        maxNanoseconds = Swift.max(maxNanoseconds, other.maxNanoseconds)
    }

    /// Forgets every recorded latency, keeping the bucket storage for reuse.
    public mutating func reset() {
        if !counts.isEmpty {
            counts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        count = 0
        sumNanoseconds = 0
        maxNanoseconds = 0
    }

    /// The latency in milliseconds below which `p` percent (0...100) of the recorded ones fall.
    ///
    /// Reports the middle of the bucket holding that rank, capped at ``max``, so the answer is
    /// within 1/64 of the true value above 32 µs. `p` of 100 or more gives ``max``; an empty
    /// histogram gives 0.
    public func percentile(_ p: Double) -> Double {
        guard count > 0 else { return 0 }
        if p >= 100 {
            return max
        }
        let wanted = (Swift.max(p, 0) / 100 * Double(count)).rounded(.up)
        let rank = Swift.max(1, Swift.min(count, UInt64(wanted)))
        var seen: UInt64 = 0
        for index in counts.indices {
            seen &+= counts[index]
            if seen >= rank {
                let lower = Double(HistogramBuckets.lowerEdgeMicroseconds(ofBucket: index))
                let width = Double(HistogramBuckets.widthMicroseconds(ofBucket: index))
                return Swift.min((lower + width / 2) / 1_000, max)
            }
        }
        return max
    }

    /// Cumulative counts for Prometheus `le` buckets: element `i` counts the latencies at or below
    /// `upperBoundsSeconds[i]`. The bounds must ascend; `.infinity` counts everything.
    ///
    /// A bucket that straddles a bound counts as below it, so each answer includes every latency
    /// at or below its bound and may include some up to 1/32 above it.
    public func bucketCounts(
        upperBoundsSeconds: [Double] = LatencyHistogram.defaultUpperBoundsSeconds
    ) -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(upperBoundsSeconds.count)
        var bucket = 0
        var seen: UInt64 = 0
        for bound in upperBoundsSeconds {
            if bound.isInfinite && bound > 0 {
                result.append(count)
                continue
            }
            let boundMicroseconds = bound * 1e6
            while bucket < counts.count,
                Double(HistogramBuckets.lowerEdgeMicroseconds(ofBucket: bucket)) <= boundMicroseconds
            {
                seen &+= counts[bucket]
                bucket += 1
            }
            result.append(seen)
        }
        return result
    }
}
