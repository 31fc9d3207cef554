extension GatewayConfig {
    /// The running configuration as JSON for the admin `GET /config`, every default filled in,
    /// in the file's schema plus a top-level `generation`.
    ///
    /// The admin token is shown as `"[redacted]"` when set. Without `generation` (and with no
    /// token) the result loads back into an equal configuration.
    public func redactedJSON(generation: Int) -> JSONValue {
        .object([
            ("generation", .integer(generation)),
            ("workers", .integer(workers)),
            ("listeners", .array(listeners.map(\.json))),
            ("admin", admin?.redactedJSON ?? .null),
            ("limits", limits.json),
            ("timeouts", timeouts.json),
            ("accessLog", .object([("path", .string(accessLog.sink.description))])),
            ("upstreams", .object(upstreams.map { (key: $0.name, value: $0.json) })),
            ("routes", .array(routes.map(\.json))),
            ("cluster", cluster?.redactedJSON ?? .null),
        ])
    }
}

extension ClusterConfig {
    /// The Redis password is shown as `"[redacted]"` when set, like the admin token.
    fileprivate var redactedJSON: JSONValue {
        .object([
            (
                "redis",
                .object([
                    ("address", .string(redis.address.description)),
                    ("password", redis.password == nil ? .null : .string("[redacted]")),
                    ("db", .integer(redis.database)),
                    ("timeoutMs", .integer(redis.timeoutMs)),
                    ("replicasHint", .integer(redis.replicasHint)),
                ])
            )
        ])
    }
}

extension TimeSpan {
    fileprivate var json: JSONValue {
        .number(JSONNumber(integer: milliseconds))
    }
}

extension Optional where Wrapped == String {
    fileprivate var json: JSONValue {
        map { .string($0) } ?? .null
    }
}

extension ListenerConfig {
    fileprivate var json: JSONValue {
        .object([
            ("name", .string(name)),
            ("address", .string(address.text)),
            ("trustedProxies", .array(trustedProxies.map { .string($0.description) })),
        ])
    }
}

extension AdminConfig {
    fileprivate var redactedJSON: JSONValue {
        .object([
            ("address", .string(address.text)),
            ("token", token == nil ? .null : .string("[redacted]")),
        ])
    }
}

extension LimitsConfig {
    fileprivate var json: JSONValue {
        .object([
            ("maxConnections", .integer(maxConnections)),
            ("maxRequestHeaderBytes", .integer(maxRequestHeaderBytes)),
            ("maxRequestBodyBytes", .integer(maxRequestBodyBytes)),
            ("maxResponseHeaderBytes", .integer(maxResponseHeaderBytes)),
        ])
    }
}

extension TimeoutsConfig {
    fileprivate var json: JSONValue {
        .object([("requestHeaderMs", requestHeader.json), ("idleMs", idle.json), ("drainMs", drain.json)])
    }
}

extension UpstreamConfig {
    fileprivate var json: JSONValue {
        var hashOn = JSONValue.null
        if case .consistentHash(let key) = balance {
            hashOn = .string(key.description)
        }
        return .object([
            (
                "servers",
                .array(
                    servers.map {
                        .object([("address", .string($0.address.text)), ("weight", .integer($0.weight))])
                    })
            ),
            ("balance", .string(balance.description)),
            ("hashOn", hashOn),
            ("connectTimeoutMs", connectTimeout.json),
            (
                "pool",
                .object([
                    ("maxConnectionsPerServer", .integer(pool.maxConnectionsPerServer)),
                    ("maxIdlePerServer", .integer(pool.maxIdlePerServer)),
                    ("idleTimeoutMs", pool.idleTimeout.json),
                    ("maxPending", .integer(pool.maxPending)),
                ])
            ),
            ("healthCheck", healthCheck?.json ?? .null),
            (
                "circuitBreaker",
                .object([
                    ("failureThreshold", .integer(circuitBreaker.failureThreshold)),
                    ("openMs", circuitBreaker.openDuration.json),
                    ("halfOpenMaxRequests", .integer(circuitBreaker.halfOpenMaxRequests)),
                ])
            ),
        ])
    }
}

extension HealthCheckConfig {
    fileprivate var json: JSONValue {
        .object([
            ("path", .string(path)),
            ("intervalMs", interval.json),
            ("timeoutMs", timeout.json),
            ("unhealthyThreshold", .integer(unhealthyThreshold)),
            ("healthyThreshold", .integer(healthyThreshold)),
        ])
    }
}

extension RouteConfig {
    fileprivate var json: JSONValue {
        var upstream = JSONValue.null
        var direct = JSONValue.null
        switch target {
        case .upstream(let name):
            upstream = .string(name)
        case .directResponse(let response):
            direct = .object([
                ("status", .integer(response.status)),
                ("body", .string(response.body)),
                ("contentType", .string(response.contentType)),
            ])
        }
        return .object([
            ("name", .string(name)),
            ("match", match.json),
            ("upstream", upstream),
            ("directResponse", direct),
            ("prefixRewrite", prefixRewrite.json),
            ("hostRewrite", hostRewrite.json),
            ("redirectRewrite", .bool(redirectRewrite)),
            ("timeoutMs", timeout.json),
            ("retries", retries.json),
            ("rateLimit", rateLimit?.json ?? .null),
            ("requestHeaders", requestHeaders.json),
            ("responseHeaders", responseHeaders.json),
        ])
    }
}

extension RouteMatchConfig {
    fileprivate var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("host", host.map { .string($0.description) } ?? .null)
        ]
        switch path {
        case .exact(let value):
            members.append(("path", .string(value)))
        case .prefix(let value):
            members.append(("pathPrefix", .string(value)))
        }
        members.append(("methods", methods.map { .array($0.map { .string($0) }) } ?? .null))
        members.append(("headers", .object(headers.map { (key: $0.name, value: .string($0.value)) })))
        return .object(members)
    }
}

extension RetryConfig {
    fileprivate var json: JSONValue {
        .object([
            ("maxRetries", .integer(maxRetries)),
            ("retryOn", .array(retryOn.map { .string($0.rawValue) })),
            ("retriableStatusCodes", .array(retriableStatusCodes.map { .integer($0) })),
            ("perTryTimeoutMs", perTryTimeout.json),
            ("backoff", .object([("baseMs", backoff.base.json), ("maxMs", backoff.max.json)])),
            ("budgetPercent", .double(budgetPercent)),
            ("retryNonIdempotent", .bool(retryNonIdempotent)),
        ])
    }
}

extension RateLimitConfig {
    fileprivate var json: JSONValue {
        .object([
            ("requestsPerSecond", .double(requestsPerSecond)),
            ("burst", .integer(burst)),
            ("key", .string(key.description)),
            ("dryRun", .bool(dryRun)),
            ("scope", .string(scope.rawValue)),
            // Only a cluster limit has a fallback (the decoder refuses it on a local one).
            ("onBackendError", scope == .cluster ? .string(onBackendError.rawValue) : .null),
        ])
    }
}

extension HeaderRulesConfig {
    fileprivate var json: JSONValue {
        .object([
            ("set", .object(self.set.map { (key: $0.name, value: .string($0.value)) })),
            ("remove", .array(remove.map { .string($0) })),
        ])
    }
}
