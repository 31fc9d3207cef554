/// Every stat Portico reports, with its key in `/stats` and its family in `/metrics`.
///
/// Both renderers take names only from here. Cases appear in `/stats` order; the metric
/// families appear in `/metrics` in the order of their cases.
public enum StatCatalog: CaseIterable, Sendable {
    /// The program version.
    case version
    /// Seconds since start.
    case uptime
    /// Number of worker loops.
    case workers
    /// The configuration block.
    case config
    /// The running configuration generation.
    case configGeneration
    /// When the running configuration was loaded.
    case configLoadedAt
    /// The SHA-256 of the running configuration file.
    case configSHA256
    /// Reloads by outcome.
    case configReloads
    /// Reloads that were published.
    case reloadsSucceeded
    /// Reloads that were refused.
    case reloadsFailed
    /// The error of the last refused reload.
    case configLastError
    /// The client connections block.
    case connections
    /// Client connections open now.
    case connectionsActive
    /// Client connections accepted.
    case connectionsAccepted
    /// Client connections refused.
    case connectionsRejected
    /// Access-log lines by outcome.
    case accessLog
    /// Access-log lines written.
    case accessLogWritten
    /// Access-log lines dropped because the sink fell behind.
    case accessLogDropped
    /// The client requests block.
    case requests
    /// Client requests received.
    case requestsTotal
    /// Client requests in progress.
    case requestsActive
    /// The per-route block.
    case routes
    /// Client requests matched to a route.
    case routeRequests
    /// Responses by route and status class.
    case responses
    /// Requests refused by a route's rate limit.
    case rateLimited
    /// Upstream attempts after the first.
    case retries
    /// Requests that ran out of time.
    case timeouts
    /// Requests abandoned by their client.
    case cancelled
    /// Last-minute latency percentiles of a route, in milliseconds.
    case recentLatency
    /// Cumulative latency histogram of a route, in seconds.
    case requestDuration
    /// The per-upstream block.
    case upstreams
    /// Attempts sent to an upstream.
    case upstreamRequests
    /// Attempts to an upstream that failed.
    case upstreamFailures
    /// Requests waiting for a connection to an upstream.
    case upstreamPending
    /// The per-server block of an upstream.
    case servers
    /// Whether a server passes its health checks.
    case serverHealthy
    /// The state of a server's circuit breaker.
    case serverCircuit
    /// Attempts in progress on a server.
    case serverActiveRequests
    /// Connections to a server carrying a request.
    case serverActiveConnections
    /// Idle keep-alive connections to a server.
    case serverIdleConnections
    /// Attempts sent to a server.
    case serverRequests
    /// Attempts to a server that failed.
    case serverFailures
    /// Requests sent again on a new connection because their pooled one had been closed by
    /// the server.
    case serverStaleReuses
    /// The cluster rate limits' block.
    case cluster
    /// Whether every cluster limit applies its fallback (Redis failing).
    case clusterFallbackActive
    /// The block about Redis.
    case clusterRedis
    /// Calls sent to Redis.
    case clusterRedisOperations
    /// Failed calls to Redis by kind.
    case clusterRedisErrors
    /// Round trips of answered calls to Redis.
    case clusterRedisLatency
    /// The per-route block of cluster limits.
    case clusterRoutes
    /// Cluster limit decisions by route and result.
    case clusterDecisions
    /// Admitted by Redis or a lease.
    case clusterAdmitted
    /// Refused by Redis or the deny cache.
    case clusterRefused
    /// Admitted by the fallback.
    case clusterFallbackAdmitted
    /// Refused by the `local` fallback.
    case clusterFallbackRefused
    /// Refused with 503 by the `closed` fallback.
    case clusterUnavailable
    /// Leased tokens that expired unused.
    case clusterLeaseTokensExpired

    /// The latency percentiles reported under `latencyMs`, with their keys.
    public static let recentLatencyPercentiles: [(key: String, percentile: Double)] = [
        ("p50", 50), ("p90", 90), ("p99", 99),
    ]

    /// The key under `latencyMs` for the largest latency.
    public static let recentLatencyMaxKey = "max"

    /// The key in `/stats`, or nil for a stat only in `/metrics`.
    public var jsonKey: String? {
        switch self {
        case .version: "version"
        case .uptime: "uptimeSeconds"
        case .workers: "workers"
        case .config: "config"
        case .configGeneration: "generation"
        case .configLoadedAt: "loadedAt"
        case .configSHA256: "sha256"
        case .configReloads: "reloads"
        case .reloadsSucceeded: "succeeded"
        case .reloadsFailed: "failed"
        case .configLastError: "lastError"
        case .connections: "connections"
        case .connectionsActive: "active"
        case .connectionsAccepted: "accepted"
        case .connectionsRejected: "rejected"
        case .accessLog: "accessLog"
        case .accessLogWritten: "written"
        case .accessLogDropped: "dropped"
        case .requests: "requests"
        case .requestsTotal: "total"
        case .requestsActive: "active"
        case .routes: "routes"
        case .routeRequests: "requests"
        case .responses: "responses"
        case .rateLimited: "rateLimited"
        case .retries: "retries"
        case .timeouts: "timeouts"
        case .cancelled: "cancelled"
        case .recentLatency: "latencyMs"
        case .requestDuration: nil
        case .upstreams: "upstreams"
        case .upstreamRequests: "requests"
        case .upstreamFailures: "failures"
        case .upstreamPending: "pending"
        case .servers: "servers"
        case .serverHealthy: "healthy"
        case .serverCircuit: "circuit"
        case .serverActiveRequests: "activeRequests"
        case .serverActiveConnections: "activeConnections"
        case .serverIdleConnections: "idleConnections"
        case .serverRequests: "requests"
        case .serverFailures: "failures"
        case .serverStaleReuses: "staleReuses"
        case .cluster: "cluster"
        case .clusterFallbackActive: "fallbackActive"
        case .clusterRedis: "redis"
        case .clusterRedisOperations: "operations"
        case .clusterRedisErrors: "errors"
        case .clusterRedisLatency: "latencyMs"
        case .clusterRoutes: "routes"
        case .clusterDecisions: nil
        case .clusterAdmitted: "admitted"
        case .clusterRefused: "refused"
        case .clusterFallbackAdmitted: "fallbackAdmitted"
        case .clusterFallbackRefused: "fallbackRefused"
        case .clusterUnavailable: "unavailable"
        case .clusterLeaseTokensExpired: "leaseTokensExpired"
        }
    }

    /// The value of the family's `result` label for a stat that is one outcome of a family.
    public var resultLabel: String? {
        switch self {
        case .reloadsSucceeded: "success"
        case .reloadsFailed: "failure"
        case .accessLogWritten: "written"
        case .accessLogDropped: "dropped"
        case .clusterAdmitted: "admitted"
        case .clusterRefused: "refused"
        case .clusterFallbackAdmitted: "fallback_admitted"
        case .clusterFallbackRefused: "fallback_refused"
        case .clusterUnavailable: "unavailable"
        default: nil
        }
    }

    /// The Prometheus family, or nil for a stat only in `/stats`.
    public var metric: MetricDescriptor? {
        switch self {
        case .uptime:
            MetricDescriptor(
                name: "portico_uptime_seconds", help: "Seconds since the process started.", type: .gauge)
        case .workers:
            MetricDescriptor(name: "portico_workers", help: "Number of worker event loops.", type: .gauge)
        case .configGeneration:
            MetricDescriptor(
                name: "portico_config_generation", help: "Generation of the running configuration.",
                type: .gauge)
        case .configSHA256:
            MetricDescriptor(
                name: "portico_config_info",
                help: "Always 1; the running configuration file's SHA-256 as a label.",
                type: .gauge, labels: ["sha256"])
        case .configReloads:
            MetricDescriptor(
                name: "portico_config_reloads_total", help: "Configuration reloads by outcome.",
                type: .counter, labels: ["result"])
        case .connectionsActive:
            MetricDescriptor(
                name: "portico_connections_active", help: "Client connections open now.", type: .gauge)
        case .connectionsAccepted:
            MetricDescriptor(
                name: "portico_connections_accepted_total", help: "Client connections accepted.",
                type: .counter)
        case .connectionsRejected:
            MetricDescriptor(
                name: "portico_connections_rejected_total",
                help: "Client connections refused at accept time.", type: .counter)
        case .accessLog:
            MetricDescriptor(
                name: "portico_access_log_lines_total",
                help: "Access-log lines by outcome; dropped lines did not fit the log buffer.",
                type: .counter, labels: ["result"])
        case .requestsActive:
            MetricDescriptor(
                name: "portico_requests_active", help: "Client requests in progress.", type: .gauge)
        case .responses:
            MetricDescriptor(
                name: "portico_requests_total", help: "Responses sent, by route and status class.",
                type: .counter, labels: ["route", "code_class"])
        case .rateLimited:
            MetricDescriptor(
                name: "portico_rate_limited_total", help: "Requests refused by the route's rate limit.",
                type: .counter, labels: ["route"])
        case .retries:
            MetricDescriptor(
                name: "portico_retries_total", help: "Upstream attempts made after the first.",
                type: .counter, labels: ["route"])
        case .timeouts:
            MetricDescriptor(
                name: "portico_timeouts_total", help: "Requests that ran out of time.", type: .counter,
                labels: ["route"])
        case .cancelled:
            MetricDescriptor(
                name: "portico_cancelled_total", help: "Requests abandoned because the client went away.",
                type: .counter, labels: ["route"])
        case .requestDuration:
            MetricDescriptor(
                name: "portico_request_duration_seconds",
                help: "Time from request head to the end of the response, by route.", type: .histogram,
                labels: ["route"])
        case .upstreamPending:
            MetricDescriptor(
                name: "portico_upstream_pending", help: "Requests waiting for a connection to the upstream.",
                type: .gauge, labels: ["upstream"])
        case .serverRequests:
            MetricDescriptor(
                name: "portico_upstream_requests_total",
                help: "Attempts sent to the server, failed connects included.", type: .counter,
                labels: ["upstream", "server"])
        case .serverFailures:
            MetricDescriptor(
                name: "portico_upstream_failures_total", help: "Attempts to the server that failed.",
                type: .counter, labels: ["upstream", "server"])
        case .serverStaleReuses:
            MetricDescriptor(
                name: "portico_upstream_stale_reuses_total",
                help:
                    "Requests sent again on a new connection because the pooled one had been closed by the server.",
                type: .counter, labels: ["upstream", "server"])
        case .serverActiveRequests:
            MetricDescriptor(
                name: "portico_upstream_active_requests", help: "Attempts in progress on the server.",
                type: .gauge, labels: ["upstream", "server"])
        case .serverActiveConnections:
            MetricDescriptor(
                name: "portico_upstream_active_connections",
                help: "Connections to the server carrying a request.", type: .gauge,
                labels: ["upstream", "server"])
        case .serverIdleConnections:
            MetricDescriptor(
                name: "portico_upstream_idle_connections", help: "Idle keep-alive connections to the server.",
                type: .gauge, labels: ["upstream", "server"])
        case .serverHealthy:
            MetricDescriptor(
                name: "portico_upstream_healthy", help: "1 while the server passes its health checks.",
                type: .gauge, labels: ["upstream", "server"])
        case .serverCircuit:
            MetricDescriptor(
                name: "portico_circuit_open",
                help: "1 while the server's circuit breaker is open and not yet half-open.", type: .gauge,
                labels: ["upstream", "server"])
        case .clusterFallbackActive:
            MetricDescriptor(
                name: "portico_cluster_fallback_active",
                help: "1 while Redis is considered down and cluster rate limits apply their fallback.",
                type: .gauge)
        case .clusterRedisOperations:
            MetricDescriptor(
                name: "portico_cluster_redis_operations_total",
                help: "Calls sent to the Redis of cluster rate limits.", type: .counter)
        case .clusterRedisErrors:
            MetricDescriptor(
                name: "portico_cluster_redis_errors_total", help: "Failed calls to Redis by kind.",
                type: .counter,
                labels: ["kind"])
        case .clusterRedisLatency:
            MetricDescriptor(
                name: "portico_cluster_redis_latency_seconds",
                help: "Round trips of answered calls to Redis.",
                type: .histogram)
        case .clusterDecisions:
            MetricDescriptor(
                name: "portico_rate_limit_decisions_total",
                help: "Decisions of cluster rate limits by route and result.", type: .counter,
                labels: ["route", "result"])
        case .clusterLeaseTokensExpired:
            MetricDescriptor(
                name: "portico_cluster_lease_tokens_expired_total",
                help: "Leased tokens that expired unused.",
                type: .counter, labels: ["route"])
        case .version, .config, .configLoadedAt, .reloadsSucceeded, .reloadsFailed, .configLastError,
            .connections, .accessLogWritten, .accessLogDropped, .requests, .requestsTotal, .routes,
            .routeRequests, .recentLatency, .upstreams, .upstreamRequests, .upstreamFailures, .servers,
            .cluster, .clusterRedis, .clusterRoutes, .clusterAdmitted, .clusterRefused,
            .clusterFallbackAdmitted,
            .clusterFallbackRefused, .clusterUnavailable:
            nil
        }
    }
}
