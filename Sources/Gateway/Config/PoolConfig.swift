/// Upstream connection pool limits (`upstreams.<name>.pool`).
public struct PoolConfig: Sendable, Equatable {
    /// Open connections to one server, whole process; default 1024.
    public var maxConnectionsPerServer: Int
    /// Idle keep-alive connections kept per server, per worker; default 1024. Below the
    /// requests a worker has in flight to a server, every response beyond it closes its
    /// connection and the next request opens a new one (docs/performance.md, "Upstream
    /// connection churn").
    public var maxIdlePerServer: Int
    /// How long an idle pooled connection is kept (`idleTimeoutMs`); default 30 s.
    public var idleTimeout: TimeSpan
    /// Requests waiting for a connection, whole upstream; beyond it 503 `upstream_overloaded`;
    /// default 1024.
    public var maxPending: Int

    /// Creates pool limits with the documented defaults (docs/configuration.md).
    public init(
        maxConnectionsPerServer: Int = 1024,
        maxIdlePerServer: Int = 1024,
        idleTimeout: TimeSpan = .milliseconds(30000),
        maxPending: Int = 1024
    ) {
        self.maxConnectionsPerServer = maxConnectionsPerServer
        self.maxIdlePerServer = maxIdlePerServer
        self.idleTimeout = idleTimeout
        self.maxPending = maxPending
    }
}
