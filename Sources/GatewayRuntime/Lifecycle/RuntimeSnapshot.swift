import Gateway
import HTTP1
import Reactor
import Synchronization

/// Runtime state of one upstream server that outlives configuration generations: it is
/// carried over by reload while the server keeps its address in the same-named upstream.
/// Shared by all loops, so its counters are atomics.
final class ServerState: Sendable {
    let key: String
    /// Open connections to the server across all loops, idle ones included, and those
    /// reserved for a connect about to start (`reserveConnection`).
    let openConnections = Atomic<Int>(0)
    /// Requests waiting on any loop for a connection to this server (`ConnectionWaiters`):
    /// when one closes while this is not zero, every loop is told.
    let waiting = Atomic<Int>(0)
    /// Its circuit breaker, shared by all loops (docs/configuration.md, `circuitBreaker`).
    let breaker = CircuitBreaker()
    /// What its active health checks found (healthy until they say otherwise).
    let health = ServerHealth()

    init(key: String) {
        self.key = key
    }

    /// Takes one of the server's `limit` connections (`pool.maxConnectionsPerServer`, whole
    /// process) for a new connection; false when all are open.
    func reserveConnection(limit: Int) -> Bool {
        // Never counts past the limit, not even for a moment: a count that overshot and came
        // back would make another loop's reservation fail while a connection is free.
        var open = openConnections.load(ordering: .sequentiallyConsistent)
        while open < limit {
            let (exchanged, original) = openConnections.compareExchange(
                expected: open, desired: open + 1, ordering: .sequentiallyConsistent)
            if exchanged { return true }
            open = original
        }
        return false
    }
}

/// Runtime state of one upstream that outlives configuration generations (carried over by
/// reload while the upstream keeps its name), shared by all loops.
final class UpstreamState: Sendable {
    /// Requests waiting for a connection to one of its servers, on all loops.
    let pending = Atomic<Int>(0)

    /// Counts a request that starts waiting; false when `limit` (`pool.maxPending`) already
    /// wait.
    func enterPending(limit: Int) -> Bool {
        var waiting = pending.load(ordering: .relaxed)
        while waiting < limit {
            let (exchanged, original) = pending.compareExchange(
                expected: waiting, desired: waiting + 1, ordering: .relaxed)
            if exchanged { return true }
            waiting = original
        }
        return false
    }

    func leavePending() {
        pending.subtract(1, ordering: .relaxed)
    }
}

/// Runtime state of one route that outlives configuration generations (carried over by
/// reload while the route keeps its name), shared by all loops.
final class RouteState: Sendable {
    /// Retries against client requests over the last 10 s, across all workers.
    let retryBudget = RetryBudget()
}

/// One server of an upstream as the runtime uses it.
final class RuntimeServer: Sendable {
    let address: SocketAddress
    /// "host:port" as written in the configuration: the server's name in stats and logs.
    let key: String
    let weight: Int
    let state: ServerState
    /// Slot in the stats layout; also the server's pool index on every loop.
    let statSlot: Int
    /// Position in its upstream's `servers` (and for its balancer).
    let index: Int

    init(address: SocketAddress, key: String, weight: Int, state: ServerState, statSlot: Int, index: Int) {
        self.address = address
        self.key = key
        self.weight = weight
        self.state = state
        self.statSlot = statSlot
        self.index = index
    }
}

/// An upstream pool as the runtime uses it.
final class RuntimeUpstream: Sendable {
    let name: String
    /// Position in the snapshot's `upstreams` (and in every loop's balancers).
    let index: Int
    let statSlot: Int
    let servers: [RuntimeServer]
    let connectTimeout: TimeSpan
    let maxIdlePerServer: Int
    /// Open connections per server allowed across the process.
    let maxConnectionsPerServer: Int
    /// Requests allowed to wait for a connection, across the process.
    let maxPending: Int
    let state: UpstreamState
    /// How long an idle pooled connection is kept (zero: no limit).
    let idleTimeout: TimeSpan
    let balancer: Balancer
    /// What the balancer hashes (`consistent_hash`); nil for the algorithms that need no key.
    let balancerKey: BalancerKey?
    /// Its servers' circuit breaker settings.
    let circuitBreaker: CircuitBreakerConfig
    /// Its active health checks; nil when it has none (its servers are then always healthy).
    let healthCheck: HealthCheckConfig?

    init(
        name: String, index: Int, statSlot: Int, servers: [RuntimeServer], connectTimeout: TimeSpan,
        pool: PoolConfig, state: UpstreamState, balancer: Balancer, balancerKey: BalancerKey?,
        circuitBreaker: CircuitBreakerConfig, healthCheck: HealthCheckConfig?
    ) {
        self.circuitBreaker = circuitBreaker
        self.healthCheck = healthCheck
        self.name = name
        self.index = index
        self.statSlot = statSlot
        self.servers = servers
        self.connectTimeout = connectTimeout
        self.maxIdlePerServer = pool.maxIdlePerServer
        self.idleTimeout = pool.idleTimeout
        self.maxConnectionsPerServer = pool.maxConnectionsPerServer
        self.maxPending = pool.maxPending
        self.state = state
        self.balancer = balancer
        self.balancerKey = balancerKey
    }
}

/// The request key a `consistent_hash` upstream hashes (`hashOn`), ready for the dispatcher.
enum BalancerKey: Sendable {
    /// The client address as text (docs/configuration.md, "listeners[]").
    case clientIP
    /// The normalized request path, without the query.
    case path
    /// The first value of the header with this name, compared case-insensitively.
    case header([UInt8])

    /// The key `algorithm` hashes; nil when it hashes none.
    init?(_ algorithm: BalanceAlgorithm) {
        guard case .consistentHash(let key) = algorithm else { return nil }
        switch key {
        case .clientIP: self = .clientIP
        case .path: self = .path
        case .header(let name): self = .header(Array(name.utf8))
        }
    }
}

/// A header rule set turned into bytes once per generation.
struct HeaderRules: Sendable {
    /// Lowercased names to drop.
    var remove: [[UInt8]] = []
    /// Fields to set (replacing any of the same name); names kept as written, plus lowercased.
    var set: [(name: [UInt8], lowercased: [UInt8], value: [UInt8])] = []

    var isEmpty: Bool { remove.isEmpty && set.isEmpty }

    /// Whether a field of this name is removed or replaced by the rules.
    func drops(_ name: UnsafeRawBufferPointer) -> Bool {
        for entry in remove where ASCII.equalsIgnoringCase(name, entry) { return true }
        for entry in set where ASCII.equalsIgnoringCase(name, entry.lowercased) { return true }
        return false
    }
}

/// A route as the runtime uses it.
final class RuntimeRoute: Sendable {
    enum Action: Sendable {
        case upstream(Int)
        case direct(status: Int, body: [UInt8], contentType: [UInt8])
    }

    /// Position in the configuration (and in the route table).
    let index: Int
    let name: String
    let statSlot: Int
    let action: Action
    let config: RouteConfig
    let hostRewrite: [UInt8]?
    /// Maps Location / Content-Location back to the client's prefix and host; nil (no cost
    /// per response) on routes without a rewrite or with `redirectRewrite: false`.
    let redirectRewrite: RedirectRewrite?
    /// The whole-request deadline (zero: none).
    let timeout: TimeSpan
    /// Which failed attempts are tried again, and each attempt's own time limit.
    let retryPolicy: RetryPolicy
    /// The share of the route's requests that may be retried (`retries.budgetPercent`).
    let retryBudgetPercent: Double
    let state: RouteState
    let requestHeaders: HeaderRules
    let responseHeaders: HeaderRules
    /// Its rate limit; nil when it has none.
    let rateLimit: RuntimeRateLimit?
    /// The same without reference counting, for the request path (`rateLimit` owns it).
    let rateLimitRef: Unmanaged<RuntimeRateLimit>?

    init(
        index: Int, name: String, statSlot: Int, action: Action, config: RouteConfig, hostRewrite: [UInt8]?,
        redirectRewrite: RedirectRewrite?, timeout: TimeSpan, idleTimeout: TimeSpan,
        requestHeaders: HeaderRules,
        responseHeaders: HeaderRules, state: RouteState, rateLimit: RuntimeRateLimit?
    ) {
        self.rateLimit = rateLimit
        self.rateLimitRef = rateLimit.map { Unmanaged.passUnretained($0) }
        self.index = index
        self.name = name
        self.statSlot = statSlot
        self.action = action
        self.config = config
        self.hostRewrite = hostRewrite
        self.redirectRewrite = redirectRewrite
        self.timeout = timeout
        var retryPolicy = RetryPolicy(config.retries)
        retryPolicy.longestRequestedWait = idleTimeout
        self.retryPolicy = retryPolicy
        self.retryBudgetPercent = config.retries.budgetPercent
        self.state = state
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }
}

/// A listener's settings as the runtime uses them (a class: every connection refers to it).
final class RuntimeListener: Sendable {
    /// The address as configured ("127.0.0.1:0" stays so): a listener's identity across reloads.
    let key: String
    let name: String
    let address: SocketAddress
    let trustedProxies: [CIDR]

    init(key: String, name: String, address: SocketAddress, trustedProxies: [CIDR]) {
        self.key = key
        self.name = name
        self.address = address
        self.trustedProxies = trustedProxies
    }
}

/// Everything a request needs from one configuration generation, immutable.
///
/// A request captures the snapshot current when its head completes and keeps it to the end,
/// so a reload never changes the rules under a request in flight.
final class RuntimeSnapshot: Sendable {
    let generation: Int
    let config: GatewayConfig
    let routeTable: RouteTable
    let routes: [RuntimeRoute]
    let upstreams: [RuntimeUpstream]
    let listeners: [RuntimeListener]
    /// Stat slots of every route, upstream and server any generation had (only grows).
    let statLayout: StatLayout
    /// Buffer size for every socket buffer: room for the largest head the limits allow.
    let bufferBytes: Int
    /// The Redis of cluster rate limits (`cluster.redis`), kept across reloads that keep it.
    let cluster: ClusterBackend?

    init(
        generation: Int, config: GatewayConfig, routeTable: RouteTable, routes: [RuntimeRoute],
        upstreams: [RuntimeUpstream], listeners: [RuntimeListener], statLayout: StatLayout,
        cluster: ClusterBackend? = nil
    ) {
        self.cluster = cluster
        self.generation = generation
        self.config = config
        self.routeTable = routeTable
        self.routes = routes
        self.upstreams = upstreams
        self.listeners = listeners
        self.statLayout = statLayout
        let largestHead = max(config.limits.maxRequestHeaderBytes, config.limits.maxResponseHeaderBytes)
        self.bufferBytes = max(64 * 1024, largestHead + 8 * 1024)
    }
}
