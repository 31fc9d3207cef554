/// Per-server circuit breaker settings (`upstreams.<name>.circuitBreaker`).
public struct CircuitBreakerConfig: Sendable, Equatable {
    /// Consecutive failures that open the circuit, 1...65535; default 5.
    public var failureThreshold: Int
    /// How long an open circuit refuses traffic (`openMs`); default 10 s.
    public var openDuration: TimeSpan
    /// Trial requests let through once half-open, 1...65535; default 1.
    public var halfOpenMaxRequests: Int

    /// Creates breaker settings with the documented defaults (docs/configuration.md).
    public init(
        failureThreshold: Int = 5,
        openDuration: TimeSpan = .milliseconds(10000),
        halfOpenMaxRequests: Int = 1
    ) {
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
        self.halfOpenMaxRequests = halfOpenMaxRequests
    }
}
