/// The log-linear bucket layout shared by every ``LatencyHistogram``, in the style of HdrHistogram.
///
/// Values are whole microseconds. Values below 32 µs get one bucket each; every power of two from
/// 32 µs up is split into 32 equal sub-buckets, so a bucket is never wider than 1/32 (about 3%) of
/// its lower edge. The top bucket ends at 2^32 µs (about 71 minutes); larger values land in it.
enum HistogramBuckets {
    /// Linear sub-buckets per power of two.
    static let subBucketBits = 5

    /// Number of buckets: 32 exact ones, then 32 per power of two from 2^5 to 2^31 µs.
    static let count = 896

    /// The largest value that gets its own bucket; anything larger is clamped to it.
    static let largestTrackedMicroseconds: UInt64 = (1 << 32) - 1

    /// The bucket holding `microseconds`.
    static func index(ofMicroseconds microseconds: UInt64) -> Int {
        let value = Swift.min(microseconds, largestTrackedMicroseconds)
        // Values under 32 µs have at least 59 leading zero bits and need no shift.
        let shift = Swift.max(0, 58 - value.leadingZeroBitCount)
        return (shift << subBucketBits) + Int(truncatingIfNeeded: value >> UInt64(shift))
    }

    /// The smallest value, in microseconds, that falls into bucket `index`.
    static func lowerEdgeMicroseconds(ofBucket index: Int) -> UInt64 {
        let shift = Swift.max(0, (index >> subBucketBits) - 1)
        return UInt64(index - (shift << subBucketBits)) << UInt64(shift)
    }

    /// How many whole microseconds bucket `index` spans.
    static func widthMicroseconds(ofBucket index: Int) -> UInt64 {
        1 << UInt64(Swift.max(0, (index >> subBucketBits) - 1))
    }
}
