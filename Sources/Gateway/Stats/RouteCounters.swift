/// One worker's counters for one route; the worker owns its copy and counts without locks.
public struct RouteCounters: Sendable {
    /// Client requests matched to the route, directResponse routes included.
    public var requests: UInt64 = 0
    /// Responses sent, by status class.
    public var responses = ResponseClassCounts()
    /// Requests refused by the route's rate limit.
    public var rateLimited: UInt64 = 0
    /// Upstream attempts made after the first.
    public var retries: UInt64 = 0
    /// Requests that ran out of time.
    public var timeouts: UInt64 = 0
    /// Requests abandoned because the client went away.
    public var cancelled: UInt64 = 0
    /// Latencies of the last minute, for the `/stats` percentiles.
    public var recentLatency = WindowedHistogram()
    /// Every latency since start, for the Prometheus histogram.
    public var latency = LatencyHistogram()

    /// Creates all-zero counters.
    public init() {}

    /// Counts a response with `status` in its class.
    public mutating func recordResponse(status: Int) {
        responses.record(status: status)
    }

    /// Records the latency of a finished request into the last-minute window and the total.
    public mutating func recordLatency(_ duration: TimeSpan, at now: Instant) {
        let nanoseconds = UInt64(max(0, duration.nanoseconds))
        recentLatency.record(nanoseconds: nanoseconds, at: now)
        latency.record(nanoseconds: nanoseconds)
    }

    /// Adds another worker's counters for the same route.
    public mutating func merge(_ other: RouteCounters) {
        requests &+= other.requests
        responses.merge(other.responses)
        rateLimited &+= other.rateLimited
        retries &+= other.retries
        timeouts &+= other.timeouts
        cancelled &+= other.cancelled
        recentLatency.merge(other.recentLatency)
        latency.merge(other.latency)
    }
}
