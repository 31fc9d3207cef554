/// Active health checks of an upstream's servers (`upstreams.<name>.healthCheck`).
public struct HealthCheckConfig: Sendable, Equatable {
    /// Path of the `GET` probe; must start with `/`; default `/healthz`.
    public var path: String
    /// Time between probes of one server (`intervalMs`); default 5 s.
    public var interval: TimeSpan
    /// Time a probe may take before it counts as a failure (`timeoutMs`); default 1 s.
    public var timeout: TimeSpan
    /// Failures in a row that take a server out; default 3.
    public var unhealthyThreshold: Int
    /// Successes in a row that put it back; default 2.
    public var healthyThreshold: Int

    /// Creates a health check with the documented defaults (docs/configuration.md).
    public init(
        path: String = "/healthz",
        interval: TimeSpan = .milliseconds(5000),
        timeout: TimeSpan = .milliseconds(1000),
        unhealthyThreshold: Int = 3,
        healthyThreshold: Int = 2
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.unhealthyThreshold = unhealthyThreshold
        self.healthyThreshold = healthyThreshold
    }
}
