/// Everything `/stats` and `/metrics` show, gathered by the admin endpoint from the merged
/// ``WorkerStats``, the configuration and the shared upstream state; rendered by
/// ``renderJSON()`` and ``renderPrometheus()``.
///
/// Routes, upstreams and servers render in the order of their arrays (configuration order).
public struct StatsReport: Sendable {
    /// The configuration block.
    public struct Config: Sendable {
        /// The running generation, 1 for the configuration loaded at start.
        public var generation: Int = 0
        /// When the running configuration was loaded, as an RFC 3339 timestamp.
        public var loadedAt: String = ""
        /// The SHA-256 of the running configuration file, 64 hex digits.
        public var sha256: String = ""
        /// Reloads that were published.
        public var reloadsSucceeded: UInt64 = 0
        /// Reloads that were refused.
        public var reloadsFailed: UInt64 = 0
        /// Why the last reload was refused; nil when none was.
        public var lastError: String? = nil

        /// Creates an empty block.
        public init() {}
    }

    /// The state of a server's circuit breaker as `/stats` spells it.
    public enum Circuit: String, Sendable {
        /// Requests flow.
        case closed
        /// Requests are refused.
        case open
        /// The open period has passed; the next attempt probes the server.
        case halfOpen = "half_open"
    }

    /// The cluster rate limits' block (docs/operations.md, "/stats"); nil without `cluster`.
    public struct Cluster: Sendable {
        /// Whether Redis is considered down and every cluster limit applies its fallback.
        public var fallbackActive = false
        /// Calls sent to Redis (script calls, `EVAL` after `NOSCRIPT` included).
        public var redisOperations: UInt64 = 0
        /// Failed calls by kind (`ClusterBackendError`'s raw values), in that order.
        public var redisErrors: [(kind: String, count: UInt64)] = []
        /// Round trips of answered calls.
        public var redisLatency = LatencyHistogram()
        /// One line per route with a cluster limit.
        public var routes: [ClusterRoute] = []

        public init() {}
    }

    /// A cluster-limited route's decisions.
    public struct ClusterRoute: Sendable {
        public var name: String
        /// Decided by Redis (or a lease of its tokens).
        public var admitted: UInt64 = 0
        public var refused: UInt64 = 0
        /// Decided by the fallback while Redis failed.
        public var fallbackAdmitted: UInt64 = 0
        public var fallbackRefused: UInt64 = 0
        /// Refused with 503 by `onBackendError: closed`.
        public var unavailable: UInt64 = 0
        /// Leased tokens that expired unused.
        public var leaseTokensExpired: UInt64 = 0

        public init(name: String) {
            self.name = name
        }
    }

    /// One route's line.
    public struct Route: Sendable {
        /// The route's name.
        public var name: String
        /// Client requests matched to the route.
        public var requests: UInt64 = 0
        /// Responses by status class.
        public var responses = ResponseClassCounts()
        /// Requests refused by the rate limit.
        public var rateLimited: UInt64 = 0
        /// Attempts after the first.
        public var retries: UInt64 = 0
        /// Requests that ran out of time.
        public var timeouts: UInt64 = 0
        /// Requests abandoned by their client.
        public var cancelled: UInt64 = 0
        /// Latencies of the last minute, for the percentiles.
        public var recentLatency = LatencyHistogram()
        /// Every latency since start, for the Prometheus histogram.
        public var latency = LatencyHistogram()

        /// Creates a line with zero counts.
        public init(name: String) {
            self.name = name
        }

        /// Creates the line of merged `counters`, with the latency window as of `now`.
        public init(name: String, counters: RouteCounters, at now: Instant) {
            self.name = name
            requests = counters.requests
            responses = counters.responses
            rateLimited = counters.rateLimited
            retries = counters.retries
            timeouts = counters.timeouts
            cancelled = counters.cancelled
            recentLatency = counters.recentLatency.snapshot(at: now)
            latency = counters.latency
        }
    }

    /// One server's line within its upstream.
    public struct Server: Sendable {
        /// The server's `host:port` as configured.
        public var address: String
        /// Whether the server passes its health checks.
        public var healthy: Bool = true
        /// Its circuit breaker's state.
        public var circuit: Circuit = .closed
        /// Attempts in progress.
        public var activeRequests: Int = 0
        /// Connections carrying a request.
        public var activeConnections: Int = 0
        /// Idle keep-alive connections.
        public var idleConnections: Int = 0
        /// Attempts sent, failed connects included.
        public var requests: UInt64 = 0
        /// Attempts that failed.
        public var failures: UInt64 = 0
        /// Requests sent again because their pooled connection had been closed by the server.
        public var staleReuses: UInt64 = 0

        /// Creates a healthy, closed line with zero counts.
        public init(address: String) {
            self.address = address
        }

        /// Creates the line of merged `counters` plus the shared state the counters lack.
        public init(
            address: String, counters: ServerCounters, healthy: Bool, circuit: Circuit,
            activeConnections: Int, idleConnections: Int
        ) {
            self.address = address
            self.healthy = healthy
            self.circuit = circuit
            activeRequests = counters.activeRequests
            self.activeConnections = activeConnections
            self.idleConnections = idleConnections
            requests = counters.requests
            failures = counters.failures
            staleReuses = counters.staleReuses
        }
    }

    /// One upstream's line.
    public struct Upstream: Sendable {
        /// The upstream's name.
        public var name: String
        /// Attempts sent to any of its servers.
        public var requests: UInt64 = 0
        /// Attempts that failed.
        public var failures: UInt64 = 0
        /// Requests waiting for a connection.
        public var pending: Int = 0
        /// Its servers in configuration order.
        public var servers: [Server] = []

        /// Creates a line with zero counts and no servers.
        public init(name: String) {
            self.name = name
        }

        /// Creates the line of merged `counters`.
        public init(name: String, counters: UpstreamCounters, pending: Int, servers: [Server]) {
            self.name = name
            requests = counters.requests
            failures = counters.failures
            self.pending = pending
            self.servers = servers
        }
    }

    /// The program version.
    public var version: String
    /// Seconds since start.
    public var uptimeSeconds: Double = 0
    /// Number of worker loops.
    public var workers: Int = 1
    /// The configuration block.
    public var config = Config()
    /// Process-wide connection and request counts, merged over workers.
    public var process = ProcessCounters()
    /// Access-log lines written.
    public var accessLogWritten: UInt64 = 0
    /// Access-log lines dropped.
    public var accessLogDropped: UInt64 = 0
    /// Routes in configuration order.
    public var routes: [Route] = []
    /// Upstreams in configuration order.
    public var upstreams: [Upstream] = []
    /// Cluster rate limits; nil when the configuration has no `cluster`.
    public var cluster: Cluster?
    /// The `le` bounds of the Prometheus duration histogram, ascending, in seconds.
    public var durationBucketsSeconds: [Double] = LatencyHistogram.defaultUpperBoundsSeconds

    /// Creates a report with zero counts and no routes or upstreams.
    public init(version: String) {
        self.version = version
    }
}
