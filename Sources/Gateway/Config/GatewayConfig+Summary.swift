extension GatewayConfig {
    /// A short human-readable description for `portico --check`: listeners, the admin endpoint,
    /// each route with its match and target, and upstreams with their servers and policies.
    ///
    /// Never contains the admin token, nor the values of header rules (they often carry
    /// credentials for the upstream).
    public func summary() -> [String] {
        var lines: [String] = ["listeners:"]
        for listener in listeners {
            var line = "  \(listener.name) \(listener.address.text)"
            if listener.name == listener.address.text {
                line = "  \(listener.address.text)"
            }
            if !listener.trustedProxies.isEmpty {
                line +=
                    " (trusted proxies: \(listener.trustedProxies.map(\.description).joined(separator: " ")))"
            }
            lines.append(line)
        }
        if let admin {
            lines.append("admin: \(admin.address.text)" + (admin.token == nil ? "" : " (token required)"))
        } else {
            lines.append("admin: disabled")
        }
        if let redis = cluster?.redis {
            // Never the password, like the admin token.
            lines.append(
                "cluster: redis \(redis.address) db \(redis.database), timeout \(redis.timeoutMs) ms,"
                    + " \(redis.replicasHint) replica(s) assumed"
                    + (redis.password == nil ? "" : " (password set)"))
        }
        lines.append("routes:")
        for route in routes {
            lines.append("  \(route.name): \(route.matchSummary) -> \(route.targetSummary)")
        }
        lines.append("upstreams:")
        for upstream in upstreams {
            lines.append("  \(upstream.name): \(upstream.policySummary)")
            for server in upstream.servers {
                lines.append("    \(server.address.text) weight \(server.weight)")
            }
        }
        return lines
    }
}

extension RouteConfig {
    fileprivate var matchSummary: String {
        var parts: [String] = []
        if let host = match.host {
            parts.append("host \(host)")
        }
        parts.append(match.path.description)
        if let methods = match.methods {
            parts.append("methods \(methods.joined(separator: " "))")
        }
        for header in match.headers {
            parts.append("header \(header.name): \(header.value)")
        }
        return parts.joined(separator: ", ")
    }

    fileprivate var targetSummary: String {
        var parts: [String]
        switch target {
        case .upstream(let name):
            parts = ["upstream \(name)"]
            if let prefixRewrite {
                parts.append("rewrite \(prefixRewrite)")
            }
            if let hostRewrite {
                parts.append("host \(hostRewrite)")
            }
            if !redirectRewrite && (prefixRewrite != nil || hostRewrite != nil) {
                parts.append("redirects passed unchanged")
            }
            parts.append(timeout == .zero ? "no timeout" : "timeout \(timeout)")
            if retries.maxRetries > 0 && !retries.retryOn.isEmpty {
                let conditions = retries.retryOn.map(\.rawValue).joined(separator: " ")
                parts.append("retries \(retries.maxRetries) on \(conditions)")
            } else {
                parts.append("no retries")
            }
        case .directResponse(let response):
            parts = ["direct response \(response.status)"]
        }
        if let rateLimit {
            let rate = formatNumber(rateLimit.requestsPerSecond)
            parts.append(
                "rate limit \(rate)/s burst \(rateLimit.burst) by \(rateLimit.key)"
                    + (rateLimit.scope == .cluster
                        ? " across the cluster (\(rateLimit.onBackendError) on Redis errors)" : "")
                    + (rateLimit.dryRun ? " (dry run)" : ""))
        }
        if !requestHeaders.isEmpty {
            parts.append("request headers: \(requestHeaders.summary)")
        }
        if !responseHeaders.isEmpty {
            parts.append("response headers: \(responseHeaders.summary)")
        }
        return parts.joined(separator: ", ")
    }
}

extension HeaderRulesConfig {
    fileprivate var summary: String {
        (self.set.map { "set \($0.name)" } + remove.map { "remove \($0)" }).joined(separator: " ")
    }
}

extension UpstreamConfig {
    fileprivate var policySummary: String {
        var parts = [balance.description]
        if case .consistentHash(let key) = balance {
            parts[0] += " on \(key)"
        }
        parts.append("connect timeout \(connectTimeout)")
        if let check = healthCheck {
            parts.append("health check GET \(check.path) every \(check.interval)")
        }
        let breaker = circuitBreaker
        parts.append("circuit breaker after \(breaker.failureThreshold) failures for \(breaker.openDuration)")
        return parts.joined(separator: ", ")
    }
}

/// `100` for whole numbers, `0.5` otherwise.
func formatNumber(_ value: Double) -> String {
    if let integer = JSONNumber.exactInteger(value) {
        return String(integer)
    }
    return value.description
}
