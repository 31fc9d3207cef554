import Gateway
import Testing

@Suite struct ConfigLoaderTests {
    @Test func decodesEveryFieldOfAFullConfiguration() throws {
        let config = try ConfigFixtures.load(ConfigFixtures.full).get()
        #expect(config.workers == 2)

        #expect(config.listeners.count == 2)
        #expect(config.listeners[0].name == "http")
        #expect(config.listeners[0].address.text == "0.0.0.0:8080")
        #expect(config.listeners[0].address.ip == .v4(0))
        #expect(config.listeners[0].address.port == 8080)
        #expect(config.listeners[0].trustedProxies == [CIDR("10.0.0.0/8")!, CIDR("::1/128")!])
        #expect(config.listeners[0].trusts(IPAddress("10.9.8.7")!))
        #expect(config.listeners[1].name == "[::1]:8081")
        #expect(config.listeners[1].address.host == "::1")
        #expect(config.listeners[1].trustedProxies.isEmpty)

        #expect(config.admin?.address.text == "127.0.0.1:9901")
        #expect(config.admin?.token == "s3cret-token")

        #expect(
            config.limits
                == LimitsConfig(
                    maxConnections: 5000, maxRequestHeaderBytes: 8192, maxRequestBodyBytes: 0,
                    maxResponseHeaderBytes: 65536))
        #expect(
            config.timeouts
                == TimeoutsConfig(requestHeader: .seconds(5), idle: .seconds(30), drain: .seconds(1)))
        #expect(config.accessLog.sink == .file("/var/log/portico/access.log"))

        #expect(config.upstreams.map(\.name) == ["users", "carts"])
        let users = try #require(config.upstream(named: "users"))
        #expect(users.servers.map(\.address.text) == ["127.0.0.1:9001", "localhost:9002"])
        #expect(users.servers.map(\.weight) == [3, 1])
        #expect(users.servers[1].address.ip == .v4(0x7F00_0001))
        #expect(users.balance == .roundRobin)
        #expect(users.connectTimeout == .milliseconds(500))
        #expect(
            users.pool
                == PoolConfig(
                    maxConnectionsPerServer: 64, maxIdlePerServer: 8, idleTimeout: .seconds(10),
                    maxPending: 10))
        #expect(
            users.healthCheck
                == HealthCheckConfig(
                    path: "/status", interval: .seconds(2), timeout: .milliseconds(300),
                    unhealthyThreshold: 4,
                    healthyThreshold: 1))
        #expect(
            users.circuitBreaker
                == CircuitBreakerConfig(
                    failureThreshold: 7, openDuration: .seconds(3), halfOpenMaxRequests: 2))
        let carts = try #require(config.upstream(named: "carts"))
        #expect(carts.balance == .consistentHash(.header("X-User")))
        #expect(carts.healthCheck == nil)
        #expect(carts.circuitBreaker == CircuitBreakerConfig())
        #expect(config.upstreamIndex(named: "carts") == 1)

        #expect(config.routes.map(\.name) == ["users-api", "carts", "health"])
        let api = config.routes[0]
        #expect(api.match.host == .exact("api.example.com"))
        #expect(api.match.path == .prefix("/users"))
        #expect(api.match.methods == ["GET", "POST"])
        #expect(api.match.headers == [ConfigHeaderField(name: "X-Version", value: "2")])
        #expect(api.target == .upstream("users"))
        #expect(api.upstreamName == "users")
        #expect(api.prefixRewrite == "/")
        #expect(api.hostRewrite == "users.internal:8080")
        #expect(api.redirectRewrite == false)
        #expect(api.timeout == .zero)
        #expect(
            api.retries
                == RetryConfig(
                    maxRetries: 3, retryOn: [.connectFailure, .fiveXX, .retriableStatus, .perTryTimeout],
                    retriableStatusCodes: [409, 429], perTryTimeout: .seconds(2),
                    backoff: BackoffConfig(base: .milliseconds(10), max: .milliseconds(100)),
                    budgetPercent: 12.5,
                    retryNonIdempotent: true))
        #expect(
            api.rateLimit
                == RateLimitConfig(requestsPerSecond: 0.5, burst: 1, key: .header("X-Api-Key"), dryRun: true))
        #expect(
            api.requestHeaders
                == HeaderRulesConfig(
                    set: [ConfigHeaderField(name: "X-Env", value: "prod")], remove: ["X-Debug"]))
        #expect(api.responseHeaders.isEmpty)

        let cartsRoute = config.routes[1]
        #expect(cartsRoute.match.host == .wildcard(domain: "shop.example.com"))
        #expect(cartsRoute.match.path == .exact("/cart"))
        #expect(cartsRoute.rateLimit == RateLimitConfig(requestsPerSecond: 100, burst: 20, key: .global))

        let health = config.routes[2]
        #expect(
            health.target
                == .directResponse(DirectResponseConfig(status: 200, body: "ok", contentType: "text/plain")))
        #expect(health.upstreamName == nil)
    }

    @Test func fillsInEveryDefault() throws {
        let config = try ConfigFixtures.load(ConfigFixtures.minimal).get()
        #expect(config.workers == 0)
        #expect(config.admin == nil)
        #expect(config.limits.maxConnections == 10000)
        #expect(config.limits.maxRequestHeaderBytes == 16384)
        #expect(config.limits.maxRequestBodyBytes == 10_485_760)
        #expect(config.limits.maxResponseHeaderBytes == 32768)
        #expect(config.timeouts.requestHeader == .milliseconds(10000))
        #expect(config.timeouts.idle == .milliseconds(60000))
        #expect(config.timeouts.drain == .milliseconds(15000))
        #expect(config.accessLog.sink == .stdout)
        #expect(config.listeners[0].name == "127.0.0.1:8080")

        let upstream = config.upstreams[0]
        #expect(upstream.servers[0].weight == 1)
        #expect(upstream.balance == .roundRobin)
        #expect(upstream.connectTimeout == .milliseconds(1000))
        #expect(upstream.pool.maxConnectionsPerServer == 1024)
        #expect(upstream.pool.maxIdlePerServer == 1024)
        #expect(upstream.pool.idleTimeout == .milliseconds(30000))
        #expect(upstream.pool.maxPending == 1024)
        #expect(upstream.healthCheck == nil)
        #expect(upstream.circuitBreaker.failureThreshold == 5)
        #expect(upstream.circuitBreaker.openDuration == .milliseconds(10000))
        #expect(upstream.circuitBreaker.halfOpenMaxRequests == 1)

        let route = config.routes[0]
        #expect(route.match == RouteMatchConfig(host: nil, path: .prefix("/"), methods: nil, headers: []))
        #expect(route.prefixRewrite == nil)
        #expect(route.hostRewrite == nil)
        #expect(route.redirectRewrite == true)
        #expect(route.timeout == .milliseconds(15000))
        #expect(route.retries.maxRetries == 2)
        #expect(route.retries.retryOn == [.connectFailure, .reset])
        #expect(route.retries.retriableStatusCodes.isEmpty)
        #expect(route.retries.perTryTimeout == .zero)
        #expect(route.retries.backoff.base == .milliseconds(25))
        #expect(route.retries.backoff.max == .milliseconds(250))
        #expect(route.retries.budgetPercent == 20)
        #expect(route.retries.retryNonIdempotent == false)
        #expect(route.rateLimit == nil)
        #expect(route.requestHeaders.isEmpty && route.responseHeaders.isEmpty)
    }

    @Test func fillsInDefaultsOfOptionalSections() throws {
        let text = ConfigFixtures.json(
            upstreams: #"{"u": {"servers": [{"address": "127.0.0.1:9001"}], "healthCheck": {}}}"#,
            routes: #"""
                [{"name": "a", "upstream": "u", "rateLimit": {"requestsPerSecond": 2.5}},
                 {"name": "b", "match": {"path": "/b"}, "directResponse": {}, "rateLimit": {}},
                 {"name": "c", "match": {"path": "/c"}, "upstream": "u",
                  "hostRewrite": null, "prefixRewrite": null}]
                """#,
            extra: #", "admin": {}, "accessLog": {"path": "off"}"#)
        let config = try ConfigFixtures.load(text).get()
        #expect(config.admin == AdminConfig(address: AdminConfig.defaultAddress, token: nil))
        #expect(config.accessLog.sink == .off)
        #expect(config.upstreams[0].healthCheck == HealthCheckConfig())
        #expect(config.upstreams[0].healthCheck?.path == "/healthz")
        #expect(
            config.routes[0].rateLimit == RateLimitConfig(requestsPerSecond: 2.5, burst: 3, key: .clientIP))
        #expect(config.routes[1].rateLimit?.requestsPerSecond == 100)
        #expect(config.routes[1].rateLimit?.burst == 100)
        #expect(
            config.routes[1].target
                == .directResponse(DirectResponseConfig(status: 200, body: "", contentType: "text/plain")))
        #expect(config.routes[2].hostRewrite == nil)
    }

    /// The decoder's defaults for a partly given `pool` are `PoolConfig`'s own (1024 idle
    /// connections per worker: fewer closes and reopens connections under load).
    @Test func poolKeysLeftOutTakeThePoolConfigDefaults() throws {
        let text = ConfigFixtures.json(
            upstreams:
                #"{"u": {"servers": [{"address": "127.0.0.1:9001"}], "pool": {"idleTimeoutMs": 5000}}}"#,
            routes: #"[{"name": "a", "upstream": "u"}]"#)
        let pool = try ConfigFixtures.load(text).get().upstreams[0].pool
        #expect(pool == PoolConfig(idleTimeout: .milliseconds(5000)))
        #expect(pool.maxIdlePerServer == 1024)
    }

    @Test func acceptsConsistentHashWithoutHashOnAsClientIP() throws {
        let text = ConfigFixtures.json(
            upstreams:
                #"{"users": {"servers": [{"address": "127.0.0.1:9001"}], "balance": "consistent_hash"}}"#)
        let config = try ConfigFixtures.load(text).get()
        #expect(config.upstreams[0].balance == .consistentHash(.clientIP))
    }

    @Test(arguments: ["least_request", "random"])
    func acceptsEveryBalanceAlgorithm(name: String) throws {
        let text = ConfigFixtures.json(
            upstreams: #"{"users": {"servers": [{"address": "127.0.0.1:9001"}], "balance": "\#(name)"}}"#)
        let config = try ConfigFixtures.load(text).get()
        #expect(config.upstreams[0].balance.description == name)
    }

    @Test func allowsANonLoopbackAdminWithAToken() throws {
        let text = ConfigFixtures.json(extra: #", "admin": {"address": "0.0.0.0:9901", "token": "t"}"#)
        let config = try ConfigFixtures.load(text).get()
        #expect(config.admin?.token == "t")
    }

    @Test func allowsSeveralListenersOnPortZero() throws {
        let text = ConfigFixtures.json(
            listeners: #"[{"address": "127.0.0.1:0"}, {"address": "127.0.0.1:0", "name": "b"}]"#)
        #expect(ConfigFixtures.errors(text) == [])
    }

    @Test func survivesRandomlyMutatedFiles() {
        // Deterministic xorshift, so a failure reproduces.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(truncatingIfNeeded: state >> 1)
        }
        let original = Array(ConfigFixtures.full.utf8)
        let replacements = Array(#"{}[]:,"\-0123456789.eE+ truefalsnul/xX"#.utf8) + [0x00, 0xFF, 0xC3]
        var loaded = 0
        for _ in 0..<1500 {
            var bytes = original
            for _ in 0..<(1 + next() % 3) {
                let position = next() % bytes.count
                switch next() % 3 {
                case 0:
                    bytes[position] = replacements[next() % replacements.count]
                case 1:
                    bytes.remove(at: position)
                default:
                    bytes.insert(replacements[next() % replacements.count], at: position)
                }
            }
            if case .success = ConfigLoader.load(json: bytes, resolve: ConfigFixtures.resolve) {
                loaded += 1
            }
        }
        #expect(loaded < 1500)
    }
}
