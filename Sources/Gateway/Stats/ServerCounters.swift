/// One worker's counters for one server of an upstream.
public struct ServerCounters: Sendable, Equatable {
    /// Attempts sent to the server, failed connects included.
    public var requests: UInt64 = 0
    /// Attempts that failed.
    public var failures: UInt64 = 0
    /// Attempts in progress on this worker; signed because merging sums workers' gauges.
    public var activeRequests: Int = 0
    /// Requests sent again on a new connection because the pooled one they got had been
    /// closed by the server (not retries, not failures).
    public var staleReuses: UInt64 = 0

    /// Creates all-zero counters.
    public init() {}

    /// Adds another worker's counters for the same server.
    public mutating func merge(_ other: ServerCounters) {
        requests &+= other.requests
        failures &+= other.failures
        activeRequests &+= other.activeRequests
        staleReuses &+= other.staleReuses
    }
}
