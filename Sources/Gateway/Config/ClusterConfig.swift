/// What several gateway processes share (`cluster`): the Redis that holds the buckets of
/// cluster-scoped rate limits (docs/configuration.md, "Cluster rate limits").
public struct ClusterConfig: Sendable, Equatable {
    public var redis: RedisConfig

    public init(redis: RedisConfig) {
        self.redis = redis
    }
}

/// Where Redis listens (`cluster.redis.address`).
public enum RedisAddress: Sendable, Equatable, CustomStringConvertible {
    /// `host:port`, resolved when the file is loaded.
    case tcp(ConfigAddress)
    /// `unix:/path/to/redis.sock`.
    case unix(String)

    /// The address as written.
    public var description: String {
        switch self {
        case .tcp(let address): return address.text
        case .unix(let path): return "unix:" + path
        }
    }
}

/// `cluster.redis`: how to reach Redis (or Valkey).
public struct RedisConfig: Sendable, Equatable {
    /// `host:port` or `unix:/path`.
    public var address: RedisAddress
    /// Sent with `AUTH` on every new connection; nil (the default) sends none.
    public var password: String?
    /// Selected with `SELECT` on every new connection unless 0 (the default).
    public var database: Int
    /// The longest a limiter call waits for Redis, in milliseconds (default 5).
    public var timeoutMs: Int
    /// How many gateway processes share the limits; while Redis fails, a route with
    /// `onBackendError: "local"` limits each process at its limit divided by this (default 1).
    public var replicasHint: Int

    public init(
        address: RedisAddress, password: String? = nil, database: Int = 0, timeoutMs: Int = 5,
        replicasHint: Int = 1
    ) {
        self.address = address
        self.password = password
        self.database = database
        self.timeoutMs = timeoutMs
        self.replicasHint = replicasHint
    }
}
