/// One worker's counters for one upstream pool.
public struct UpstreamCounters: Sendable, Equatable {
    /// Attempts sent to any server of the pool, failed connects included.
    public var requests: UInt64 = 0
    /// Attempts that failed (connect error, reset, timeout, bad response).
    public var failures: UInt64 = 0

    /// Creates all-zero counters.
    public init() {}

    /// Adds another worker's counters for the same upstream.
    public mutating func merge(_ other: UpstreamCounters) {
        requests &+= other.requests
        failures &+= other.failures
    }
}
