import Gateway
import Reactor

/// Turns a validated configuration into a runtime snapshot: addresses as socket addresses,
/// header rules as bytes, balancers chosen once, route table compiled once.
enum SnapshotBuilder {
    /// `onRateLimitOverflow(route)`: a route's limiter tracks as many keys as it may and new
    /// keys share one bucket (reported at most once a minute per route).
    static func build(
        _ config: GatewayConfig, generation: Int, previous: RuntimeSnapshot?,
        onRateLimitOverflow: @escaping @Sendable (String) -> Void = { _ in },
        onClusterFallback: @escaping @Sendable (ClusterBackend.Transition) -> Void = { _ in }
    ) -> RuntimeSnapshot {
        // Counters are keyed by name, so a route or upstream that keeps its name keeps its slot.
        var layout = previous?.statLayout ?? StatLayout()
        layout.include(
            routes: config.routes.map(\.name), upstreams: config.upstreams.map(\.name),
            servers: config.upstreams.flatMap { upstream in
                upstream.servers.map { ServerStatKey(upstream: upstream.name, server: $0.address.text) }
            })
        var carried: [String: ServerState] = [:]
        var carriedUpstreams: [String: UpstreamState] = [:]
        if let previous {
            for upstream in previous.upstreams {
                carriedUpstreams[upstream.name] = upstream.state
                for server in upstream.servers { carried["\(upstream.name) \(server.key)"] = server.state }
            }
        }
        let upstreams = config.upstreams.enumerated().map { index, upstream -> RuntimeUpstream in
            let servers = upstream.servers.enumerated().map { serverIndex, server -> RuntimeServer in
                let key = server.address.text
                let state = carried["\(upstream.name) \(key)"] ?? ServerState(key: key)
                return RuntimeServer(
                    address: SocketAddress(server.address), key: key, weight: server.weight, state: state,
                    statSlot: layout.servers.slot(of: ServerStatKey(upstream: upstream.name, server: key))!,
                    index: serverIndex)
            }
            return RuntimeUpstream(
                name: upstream.name, index: index, statSlot: layout.upstreams.slot(of: upstream.name)!,
                servers: servers,
                connectTimeout: upstream.connectTimeout,
                pool: upstream.pool, state: carriedUpstreams[upstream.name] ?? UpstreamState(),
                balancer: makeBalancer(upstream),
                balancerKey: BalancerKey(upstream.balance), circuitBreaker: upstream.circuitBreaker,
                healthCheck: upstream.healthCheck)
        }
        let upstreamIndex = Dictionary(uniqueKeysWithValues: upstreams.enumerated().map { ($1.name, $0) })
        // Route state (the retry budget) carries over by name.
        let carriedRoutes = Dictionary(
            (previous?.routes ?? []).map { ($0.name, $0.state) }, uniquingKeysWith: { first, _ in first })
        // The Redis backend (its breaker) stays while cluster.redis stays the same.
        let cluster: ClusterBackend? = config.cluster.map { cluster in
            if let previous = previous?.cluster, previous.config == cluster.redis { return previous }
            return ClusterBackend(config: cluster.redis, onTransition: onClusterFallback)
        }
        // A route keeps its buckets while its rateLimit (and the backend) stays the same.
        let carriedLimits = Dictionary(
            (previous?.routes ?? []).compactMap { route in route.rateLimit.map { (route.name, $0) } },
            uniquingKeysWith: { first, _ in first })
        let routes = config.routes.enumerated().map { index, route -> RuntimeRoute in
            let action: RuntimeRoute.Action
            switch route.target {
            case .directResponse(let direct):
                action = .direct(
                    status: direct.status, body: Array(direct.body.utf8),
                    contentType: Array(direct.contentType.utf8))
            case .upstream(let name):
                action = .upstream(upstreamIndex[name] ?? 0)
            }
            return RuntimeRoute(
                index: index, name: route.name, statSlot: layout.routes.slot(of: route.name)!, action: action,
                config: route,
                hostRewrite: route.hostRewrite.map { Array($0.utf8) },
                redirectRewrite: RedirectRewrite(route: route),
                timeout: route.timeout, idleTimeout: config.timeouts.idle,
                requestHeaders: HeaderRules(route.requestHeaders),
                responseHeaders: HeaderRules(route.responseHeaders),
                state: carriedRoutes[route.name] ?? RouteState(),
                rateLimit: route.rateLimit.map { limit in
                    if let carried = carriedLimits[route.name], carried.config == limit,
                        carried.cluster?.backend === cluster || carried.cluster == nil
                    {
                        return RuntimeRateLimit(
                            route: route.name, config: limit, store: carried.store, cluster: carried.cluster)
                    }
                    let name = route.name
                    let gcra = GCRA(requestsPerSecond: limit.requestsPerSecond, burst: limit.burst)
                    let store = LocalRateLimitStore(
                        gcra: gcra, global: limit.key == .global, onOverflow: { onRateLimitOverflow(name) })
                    guard limit.scope == .cluster, let cluster else {
                        return RuntimeRateLimit(route: route.name, config: limit, store: store, cluster: nil)
                    }
                    return RuntimeRateLimit(
                        route: route.name, config: limit, store: store,
                        cluster: ClusterRateLimiter(
                            route: route.name, gcra: gcra, backend: cluster,
                            fallback: ClusterFallback(
                                limit.onBackendError, limit: limit,
                                replicasHint: cluster.config?.replicasHint ?? 1)))
                })
        }
        let listeners = config.listeners.map {
            RuntimeListener(
                key: $0.address.text, name: $0.name, address: SocketAddress($0.address),
                trustedProxies: $0.trustedProxies)
        }
        return RuntimeSnapshot(
            generation: generation, config: config, routeTable: RouteTable(routes: config.routes),
            routes: routes,
            upstreams: upstreams, listeners: listeners, statLayout: layout, cluster: cluster)
    }
}

/// The balancer for an upstream's algorithm, built once per generation (a consistent-hash
/// table included) and copied by every worker.
private func makeBalancer(_ upstream: UpstreamConfig) -> Balancer {
    let weights = upstream.servers.map(\.weight)
    switch upstream.balance {
    case .roundRobin:
        return .roundRobin(SmoothWeightedRoundRobin(weights: weights))
    case .leastRequest:
        return .leastRequest(LeastRequest(weights: weights))
    case .random:
        return .random(WeightedRandom(weights: weights))
    case .consistentHash:
        return .consistentHash(
            ConsistentHash(serverKeys: upstream.servers.map(\.address.text), weights: weights))
    }
}

extension HeaderRules {
    init(_ config: HeaderRulesConfig) {
        self.init(
            remove: config.remove.map { Array($0.lowercased().utf8) },
            set: config.set.map {
                (
                    name: Array($0.name.utf8), lowercased: Array($0.name.lowercased().utf8),
                    value: Array($0.value.utf8)
                )
            })
    }
}

extension SocketAddress {
    package init(_ address: ConfigAddress) {
        switch address.ip {
        case .v4(let ip):
            self.init(ipv4: ip, port: address.port)
        case .v6:
            self.init(ipv6: address.ip.octets, port: address.port)
        }
    }

    /// The address as the pure core's IP type (for trusted-proxy checks).
    var gatewayIP: IPAddress {
        switch storage {
        case .v4(let ip, _): return .v4(ip)
        case .v6(let ip, _): return IPAddress(octets16: ip.bytes)
        }
    }
}

extension IPAddress {
    /// An IPv6 address from its 16 network-order bytes (IPv4-mapped ones become IPv4).
    init(octets16 bytes: [UInt8]) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        if high == 0 && low >> 32 == 0xffff {
            self = .v4(UInt32(truncatingIfNeeded: low))
        } else {
            self = .v6(high: high, low: low)
        }
    }
}
