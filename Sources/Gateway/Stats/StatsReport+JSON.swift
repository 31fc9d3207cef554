extension StatsReport {
    /// The `/stats` body (docs/operations.md, "Admin endpoint"): compact JSON with every key present, in the documented
    /// order; latencies in milliseconds rounded to three decimals, `lastError` null when none.
    public func renderJSON() -> [UInt8] {
        var json = StatsJSONWriter()
        json.beginObject()
        json.field(.version, version)
        json.field(.uptime, decimal: uptimeSeconds)
        json.field(.workers, workers)
        writeConfig(to: &json)
        json.beginObject(.connections)
        json.field(.connectionsActive, process.connectionsActive)
        json.field(.connectionsAccepted, process.connectionsAccepted)
        json.field(.connectionsRejected, process.connectionsRejected)
        json.endObject()
        json.beginObject(.accessLog)
        json.field(.accessLogWritten, accessLogWritten)
        json.field(.accessLogDropped, accessLogDropped)
        json.endObject()
        json.beginObject(.requests)
        json.field(.requestsTotal, process.requestsTotal)
        json.field(.requestsActive, process.requestsActive)
        json.endObject()
        json.beginObject(.routes)
        for route in routes {
            write(route, to: &json)
        }
        json.endObject()
        json.beginObject(.upstreams)
        for upstream in upstreams {
            write(upstream, to: &json)
        }
        json.endObject()
        if let cluster {
            write(cluster, to: &json)
        } else {
            json.field(.cluster, nil as String?)
        }
        json.endObject()
        return json.output
    }

    private func write(_ cluster: Cluster, to json: inout StatsJSONWriter) {
        json.beginObject(.cluster)
        json.field(.clusterFallbackActive, cluster.fallbackActive)
        json.beginObject(.clusterRedis)
        json.field(.clusterRedisOperations, cluster.redisOperations)
        json.beginObject(.clusterRedisErrors)
        for (kind, count) in cluster.redisErrors { json.field(named: kind, count) }
        json.endObject()
        writePercentiles(cluster.redisLatency, as: .clusterRedisLatency, to: &json)
        json.endObject()
        json.beginObject(.clusterRoutes)
        for route in cluster.routes {
            json.beginObject(named: route.name)
            json.field(.clusterAdmitted, route.admitted)
            json.field(.clusterRefused, route.refused)
            json.field(.clusterFallbackAdmitted, route.fallbackAdmitted)
            json.field(.clusterFallbackRefused, route.fallbackRefused)
            json.field(.clusterUnavailable, route.unavailable)
            json.field(.clusterLeaseTokensExpired, route.leaseTokensExpired)
            json.endObject()
        }
        json.endObject()
        json.endObject()
    }

    /// `{"p50":…,"p90":…,"p99":…,"max":…}` in milliseconds.
    private func writePercentiles(
        _ histogram: LatencyHistogram, as stat: StatCatalog, to json: inout StatsJSONWriter
    ) {
        json.beginObject(stat)
        for (key, percentile) in StatCatalog.recentLatencyPercentiles {
            json.field(named: key, decimal: histogram.percentile(percentile))
        }
        json.field(named: StatCatalog.recentLatencyMaxKey, decimal: histogram.max)
        json.endObject()
    }

    private func writeConfig(to json: inout StatsJSONWriter) {
        json.beginObject(.config)
        json.field(.configGeneration, config.generation)
        json.field(.configLoadedAt, config.loadedAt)
        json.field(.configSHA256, config.sha256)
        json.beginObject(.configReloads)
        json.field(.reloadsSucceeded, config.reloadsSucceeded)
        json.field(.reloadsFailed, config.reloadsFailed)
        json.endObject()
        json.field(.configLastError, config.lastError)
        json.endObject()
    }

    private func write(_ route: Route, to json: inout StatsJSONWriter) {
        json.beginObject(named: route.name)
        json.field(.routeRequests, route.requests)
        json.beginObject(.responses)
        for statusClass in StatusClass.allCases {
            json.field(named: statusClass.label, route.responses[statusClass])
        }
        json.endObject()
        json.field(.rateLimited, route.rateLimited)
        json.field(.retries, route.retries)
        json.field(.timeouts, route.timeouts)
        json.field(.cancelled, route.cancelled)
        writePercentiles(route.recentLatency, as: .recentLatency, to: &json)
        json.endObject()
    }

    private func write(_ upstream: Upstream, to json: inout StatsJSONWriter) {
        json.beginObject(named: upstream.name)
        json.field(.upstreamRequests, upstream.requests)
        json.field(.upstreamFailures, upstream.failures)
        json.field(.upstreamPending, upstream.pending)
        json.beginObject(.servers)
        for server in upstream.servers {
            json.beginObject(named: server.address)
            json.field(.serverHealthy, server.healthy)
            json.field(.serverCircuit, server.circuit.rawValue)
            json.field(.serverActiveRequests, server.activeRequests)
            json.field(.serverActiveConnections, server.activeConnections)
            json.field(.serverIdleConnections, server.idleConnections)
            json.field(.serverRequests, server.requests)
            json.field(.serverFailures, server.failures)
            json.field(.serverStaleReuses, server.staleReuses)
            json.endObject()
        }
        json.endObject()
        json.endObject()
    }
}
