extension StatsReport {
    /// The `/metrics` body in Prometheus text format 0.0.4: every family of ``StatCatalog`` in
    /// catalog order, each with `# HELP` and `# TYPE` before its samples; label values are
    /// escaped. The duration histogram is cumulative since start.
    public func renderPrometheus() -> [UInt8] {
        var text = PrometheusWriter()
        for stat in StatCatalog.allCases {
            guard let metric = stat.metric else { continue }
            text.family(metric)
            writeSamples(of: stat, as: metric, to: &text)
        }
        return text.output
    }

    private func writeSamples(
        of stat: StatCatalog, as metric: MetricDescriptor, to text: inout PrometheusWriter
    ) {
        switch stat {
        case .uptime:
            text.sample(metric, [], float: uptimeSeconds)
        case .workers:
            text.sample(metric, [], workers)
        case .configGeneration:
            text.sample(metric, [], config.generation)
        case .configSHA256:
            text.sample(metric, [config.sha256], 1)
        case .configReloads:
            text.sample(metric, [Self.result(.reloadsSucceeded)], config.reloadsSucceeded)
            text.sample(metric, [Self.result(.reloadsFailed)], config.reloadsFailed)
        case .connectionsActive:
            text.sample(metric, [], process.connectionsActive)
        case .connectionsAccepted:
            text.sample(metric, [], process.connectionsAccepted)
        case .connectionsRejected:
            text.sample(metric, [], process.connectionsRejected)
        case .accessLog:
            text.sample(metric, [Self.result(.accessLogWritten)], accessLogWritten)
            text.sample(metric, [Self.result(.accessLogDropped)], accessLogDropped)
        case .requestsActive:
            text.sample(metric, [], process.requestsActive)
        case .responses:
            for route in routes {
                for statusClass in StatusClass.allCases {
                    text.sample(metric, [route.name, statusClass.label], route.responses[statusClass])
                }
            }
        case .rateLimited:
            for route in routes {
                text.sample(metric, [route.name], route.rateLimited)
            }
        case .retries:
            for route in routes {
                text.sample(metric, [route.name], route.retries)
            }
        case .timeouts:
            for route in routes {
                text.sample(metric, [route.name], route.timeouts)
            }
        case .cancelled:
            for route in routes {
                text.sample(metric, [route.name], route.cancelled)
            }
        case .requestDuration:
            for route in routes {
                text.histogram(metric, [route.name], route.latency, bounds: durationBucketsSeconds)
            }
        case .upstreamPending:
            for upstream in upstreams {
                text.sample(metric, [upstream.name], upstream.pending)
            }
        case .serverHealthy:
            forEachServer { text.sample(metric, $0, $1.healthy ? 1 : 0) }
        case .serverCircuit:
            forEachServer { text.sample(metric, $0, $1.circuit == .open ? 1 : 0) }
        case .serverActiveRequests:
            forEachServer { text.sample(metric, $0, $1.activeRequests) }
        case .serverActiveConnections:
            forEachServer { text.sample(metric, $0, $1.activeConnections) }
        case .serverIdleConnections:
            forEachServer { text.sample(metric, $0, $1.idleConnections) }
        case .serverRequests:
            forEachServer { text.sample(metric, $0, $1.requests) }
        case .serverFailures:
            forEachServer { text.sample(metric, $0, $1.failures) }
        case .serverStaleReuses:
            forEachServer { text.sample(metric, $0, $1.staleReuses) }
        case .clusterFallbackActive:
            text.sample(metric, [], cluster?.fallbackActive == true ? 1 : 0)
        case .clusterRedisOperations:
            text.sample(metric, [], cluster?.redisOperations ?? 0)
        case .clusterRedisErrors:
            for (kind, count) in cluster?.redisErrors ?? [] { text.sample(metric, [kind], count) }
        case .clusterRedisLatency:
            text.histogram(
                metric, [], cluster?.redisLatency ?? LatencyHistogram(),
                bounds: Self.redisLatencyBucketsSeconds)
        case .clusterDecisions:
            for route in cluster?.routes ?? [] {
                text.sample(metric, [route.name, Self.result(.clusterAdmitted)], route.admitted)
                text.sample(metric, [route.name, Self.result(.clusterRefused)], route.refused)
                text.sample(
                    metric, [route.name, Self.result(.clusterFallbackAdmitted)], route.fallbackAdmitted)
                text.sample(
                    metric, [route.name, Self.result(.clusterFallbackRefused)], route.fallbackRefused)
                text.sample(metric, [route.name, Self.result(.clusterUnavailable)], route.unavailable)
            }
        case .clusterLeaseTokensExpired:
            for route in cluster?.routes ?? [] { text.sample(metric, [route.name], route.leaseTokensExpired) }
        case .version, .config, .configLoadedAt, .reloadsSucceeded, .reloadsFailed, .configLastError,
            .connections, .accessLogWritten, .accessLogDropped, .requests, .requestsTotal, .routes,
            .routeRequests, .recentLatency, .upstreams, .upstreamRequests, .upstreamFailures, .servers,
            .cluster, .clusterRedis, .clusterRoutes, .clusterAdmitted, .clusterRefused,
            .clusterFallbackAdmitted,
            .clusterFallbackRefused, .clusterUnavailable:
            // Only in /stats; the catalog gives them no family.
            break
        }
    }

    /// Calls `body` with the `[upstream, server]` label values and the line of every server.
    private func forEachServer(_ body: ([String], Server) -> Void) {
        for upstream in upstreams {
            for server in upstream.servers {
                body([upstream.name, server.address], server)
            }
        }
    }

    /// Redis answers in well under a millisecond on a healthy network: finer buckets than
    /// the request durations'.
    static let redisLatencyBucketsSeconds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, .infinity,
    ]

    private static func result(_ stat: StatCatalog) -> String {
        guard let label = stat.resultLabel else {
            preconditionFailure("\(stat) is not an outcome of a family")
        }
        return label
    }
}
