/// One upstream pool (`upstreams.<name>`).
public struct UpstreamConfig: Sendable, Equatable {
    /// The key under `upstreams`; unique.
    public var name: String
    /// The servers, in file order; at least one. A server's index is its identity in balancers.
    public var servers: [ServerConfig]
    /// How a server is chosen; round robin by default.
    public var balance: BalanceAlgorithm
    /// Time allowed for a TCP connect (`connectTimeoutMs`); default 1 s.
    public var connectTimeout: TimeSpan
    /// Connection pool limits; defaults as in ``PoolConfig``.
    public var pool: PoolConfig
    /// Active health checks; nil (the default) means none, and servers count as healthy.
    public var healthCheck: HealthCheckConfig?
    /// Per-server circuit breaker; always on, defaults as in ``CircuitBreakerConfig``.
    public var circuitBreaker: CircuitBreakerConfig

    /// Creates an upstream with the documented defaults (docs/configuration.md) for everything but its name and servers.
    public init(
        name: String,
        servers: [ServerConfig],
        balance: BalanceAlgorithm = .roundRobin,
        connectTimeout: TimeSpan = .milliseconds(1000),
        pool: PoolConfig = PoolConfig(),
        healthCheck: HealthCheckConfig? = nil,
        circuitBreaker: CircuitBreakerConfig = CircuitBreakerConfig()
    ) {
        self.name = name
        self.servers = servers
        self.balance = balance
        self.connectTimeout = connectTimeout
        self.pool = pool
        self.healthCheck = healthCheck
        self.circuitBreaker = circuitBreaker
    }
}
