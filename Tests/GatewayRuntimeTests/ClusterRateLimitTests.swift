import Glibc
import PorticoTesting
import Testing

/// Cluster rate limits end to end (docs/configuration.md, "Cluster rate limits"): real
/// gateways, in process, sharing a real `redis-server`.
@Suite(
    .serialized, .timeLimit(.minutes(1)),
    .enabled(if: RedisServer.isInstalled, "redis-server is not installed (apt-get install redis-server)"))
struct ClusterRateLimitTests {
    /// Two workers, one route limited to `burst` requests for the whole cluster (the refill is
    /// too slow to matter during a test), and Redis at `redisPort`.
    private func config(
        _ upstream: FakeUpstream, redisPort: UInt16, burst: Int = 6, onBackendError: String = "closed",
        replicasHint: Int = 1, timeoutMs: Int = 2000, redisExtra: String = "", admin: Bool = false,
        key: String = "global", redisAddress: String? = nil
    ) -> String {
        """
        {"workers":2,"listeners":[{"name":"http","address":"127.0.0.1:0"}],"accessLog":{"path":"off"},
         \(admin ? #""admin":{"address":"127.0.0.1:0"},"# : "")
         "cluster":{"redis":{"address":"\(redisAddress ?? "127.0.0.1:\(redisPort)")","timeoutMs":\(timeoutMs),"replicasHint":\(replicasHint)\(redisExtra)}},
         "upstreams":{"app":{"servers":[{"address":"\(upstream.address)"}]}},
         "routes":[{"name":"api","match":{"pathPrefix":"/"},"upstream":"app",
                    "rateLimit":{"requestsPerSecond":0.01,"burst":\(burst),"key":"\(key)","scope":"cluster",
                                 "onBackendError":"\(onBackendError)"}}]}
        """
    }

    @Test func twoGatewaysShareOneLimit() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let first = try GatewayHarness(config(upstream, redisPort: redis.port))
        let second = try GatewayHarness(config(upstream, redisPort: redis.port))
        var statuses: [Int] = []
        for index in 0..<10 {
            for gateway in [first, second] {
                // New connections land on either worker; keep-alive ones stay on theirs.
                let response = try TestClient.get(port: gateway.port, path: "/r\(index)")
                statuses.append(response.status)
                if response.status == 429 {
                    #expect(response.header("Retry-After") != nil)
                    #expect(response.header("RateLimit-Remaining") == "0")
                    #expect(response.header("X-Gateway-Error") == "rate_limited")
                } else {
                    #expect(response.status == 200)
                    #expect(response.header("RateLimit-Limit") == "6")
                }
            }
        }
        #expect(statuses.filter { $0 == 200 }.count == 6)
        #expect(statuses.filter { $0 == 429 }.count == 14)
        #expect(upstream.receivedRequests.count == 6)
    }

    /// Requests that wait for Redis keep their place: pipelined ones are answered in order.
    @Test func pipelinedRequestsWaitingForRedisAreAnsweredInOrder() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(config(upstream, redisPort: redis.port, burst: 4))
        let client = try gateway.client()
        var batch: [UInt8] = []
        for index in 0..<6 {
            batch += Array("GET /p\(index) HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        }
        try client.send(batch)
        var statuses: [Int] = []
        for _ in 0..<6 { statuses.append(try client.readResponse().status) }
        #expect(statuses == [200, 200, 200, 200, 429, 429])
        #expect(upstream.receivedRequests.map(\.path) == ["/p0", "/p1", "/p2", "/p3"])
    }

    @Test func withRedisDownAClosedLimitAnswers503AndAnOpenOneAdmits() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let closed = try GatewayHarness(config(upstream, redisPort: redis.port, onBackendError: "closed"))
        let open = try GatewayHarness(config(upstream, redisPort: redis.port, onBackendError: "open"))
        try redis.kill()
        for _ in 0..<8 {
            let refused = try TestClient.get(port: closed.port, path: "/c")
            #expect(refused.status == 503)
            #expect(refused.header("X-Gateway-Error") == "rate_limit_unavailable")
            #expect(refused.header("Retry-After") == "1")
            #expect(try TestClient.get(port: open.port, path: "/o").status == 200)
        }
    }

    /// While Redis fails, `local` limits each gateway at its share of the limit
    /// (burst 6 ÷ replicasHint 2 = 3), and never answers 5xx.
    @Test func withRedisDownALocalFallbackLimitsEachGatewayAtItsShare() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            config(upstream, redisPort: redis.port, onBackendError: "local", replicasHint: 2))
        try redis.kill()
        let statuses = try (0..<8).map { _ in try TestClient.get(port: gateway.port, path: "/l").status }
        #expect(statuses.filter { $0 == 200 }.count == 3)
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 })
    }

    /// The gateway authenticates and selects `db` before its first script call; a refused
    /// password is a backend error like any other.
    @Test func thePasswordAndDatabaseAreUsed() throws {
        let redis = try RedisServer(password: "pass word")
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            config(upstream, redisPort: redis.port, burst: 2, redisExtra: #","password":"pass word","db":3"#))
        let statuses = try (0..<3).map { _ in try TestClient.get(port: gateway.port, path: "/d").status }
        #expect(statuses == [200, 200, 429])
        let client = try TestClient(port: redis.port)
        try client.send(Array("AUTH \"pass word\"\r\nSELECT 3\r\nDBSIZE\r\n".utf8))
        #expect(try readLine(client) == "+OK")
        #expect(try readLine(client) == "+OK")
        #expect(try readLine(client) == ":1")
        let wrong = try GatewayHarness(
            config(upstream, redisPort: redis.port, redisExtra: #","password":"wrong""#))
        #expect(try TestClient.get(port: wrong.port, path: "/w").status == 503)
    }

    /// A Redis that accepts and never answers costs a request `timeoutMs`, then the fallback.
    @Test func aHungRedisCostsAtMostTimeoutMs() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(config(upstream, redisPort: redis.port, timeoutMs: 100))
        #expect(try TestClient.get(port: gateway.port, path: "/h").status == 200)
        try redis.pause()
        defer { try? redis.resume() }
        let response = try TestClient.get(port: gateway.port, path: "/h")
        #expect(response.status == 503)
        #expect(response.header("X-Gateway-Error") == "rate_limit_unavailable")
    }

    /// `/stats` and `/metrics` show the decisions by result, the Redis calls and errors, and
    /// whether the fallback is active.
    @Test func statsShowDecisionsRedisCallsAndTheFallback() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            config(upstream, redisPort: redis.port, burst: 3, admin: true, key: "header:X-Key"))
        for _ in 0..<5 { _ = try TestClient.get(port: gateway.port, path: "/s", headers: [("X-Key", "a")]) }
        var stats = try gateway.adminClient().request(path: "/stats").json()
        var route = try #require(stats["cluster"]?["routes"]?["api"])
        #expect(route["admitted"]?.intValue == 3)
        #expect(route["refused"]?.intValue == 2)
        #expect(stats["cluster"]?["fallbackActive"]?.boolValue == false)
        // One call per admission of a quiet key and one refused (the last refusal is cached),
        // plus the EVAL after the first EVALSHA met an empty script cache.
        #expect(stats["cluster"]?["redis"]?["operations"]?.intValue == 5)
        #expect(stats["cluster"]?["redis"]?["errors"]?["connection"]?.intValue == 0)
        #expect((stats["cluster"]?["redis"]?["latencyMs"]?["max"]?.doubleValue ?? 0) > 0)

        try redis.kill()
        // Another key: key "a" is still refused from the deny cache, without Redis.
        for _ in 0..<4 {
            #expect(
                try TestClient.get(port: gateway.port, path: "/s", headers: [("X-Key", "b")]).status == 503)
        }
        stats = try gateway.adminClient().request(path: "/stats").json()
        route = try #require(stats["cluster"]?["routes"]?["api"])
        #expect(route["unavailable"]?.intValue == 4)
        #expect(stats["cluster"]?["fallbackActive"]?.boolValue == true)
        #expect((stats["cluster"]?["redis"]?["errors"]?["connection"]?.intValue ?? 0) >= 3)
        let metrics = try PrometheusText(try gateway.adminClient().request(path: "/metrics").bodyString)
        #expect(metrics.value("portico_cluster_fallback_active", [:]) == 1)
        #expect(
            metrics.value("portico_rate_limit_decisions_total", ["route": "api", "result": "admitted"]) == 3)
        #expect(
            metrics.value("portico_rate_limit_decisions_total", ["route": "api", "result": "unavailable"])
                == 4)
        #expect(metrics.value("portico_cluster_redis_operations_total", [:]) != nil)
    }

    /// One RESP line without its CRLF.
    private func readLine(_ client: TestClient) throws -> String {
        var line: [UInt8] = []
        while !line.suffix(2).elementsEqual([13, 10]) { line += try client.readBytes(count: 1) }
        return String(decoding: line.dropLast(2), as: UTF8.self)
    }

    @Test func redisCanBeReachedOverAUnixSocket() throws {
        let redis = try RedisServer(unixSocket: true)
        let upstream = try FakeUpstream(handler: .echo)
        let path = try #require(redis.unixSocket)
        let gateway = try GatewayHarness(
            config(upstream, redisPort: redis.port, burst: 2, redisAddress: "unix:" + path))
        let statuses = try (0..<3).map { _ in try TestClient.get(port: gateway.port, path: "/u").status }
        #expect(statuses == [200, 200, 429])
    }

    /// Separate `portico` processes (not only separate gateways in one process) share it.
    @Test func twoGatewayProcessesShareOneLimit() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let binary = try #require(ProcessRunner.builtProductPath(named: "portico"))
        var processes: [(ProcessRunner, UInt16, TempConfig)] = []
        for _ in 0..<2 {
            let file = try TempConfig(config(upstream, redisPort: redis.port, burst: 5))
            let process = try ProcessRunner(executable: binary, arguments: ["--config", file.path])
            let line = try process.waitForLine(
                containing: "msg=\"listening\"", in: .stderr, timeout: .seconds(20))
            processes.append((process, try #require(UInt16(line.split(separator: "port=").last ?? "")), file))
        }
        var admitted = 0
        for index in 0..<12 {
            let status = try TestClient.get(port: processes[index % 2].1, path: "/p\(index)").status
            #expect(status == 200 || status == 429)
            if status == 200 { admitted += 1 }
        }
        #expect(admitted == 5)
        for (process, _, _) in processes {
            try process.signal(SIGTERM)
            #expect(try process.waitForExit(timeout: .seconds(20)) == 0)
        }
    }

    /// Operators see the fallback begin and end in the log.
    @Test func theLogSaysWhenTheFallbackBeginsAndEnds() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let binary = try #require(ProcessRunner.builtProductPath(named: "portico"))
        let file = try TempConfig(config(upstream, redisPort: redis.port, burst: 1000, key: "header:X-Key"))
        let process = try ProcessRunner(executable: binary, arguments: ["--config", file.path])
        let line = try process.waitForLine(
            containing: "msg=\"listening\"", in: .stderr, timeout: .seconds(20))
        let port = try #require(UInt16(line.split(separator: "port=").last ?? ""))
        func get(_ key: Int) throws -> Int {
            try TestClient.get(port: port, path: "/l", headers: [("X-Key", "k\(key)")]).status
        }
        #expect(try get(0) == 200)
        try redis.kill()
        for key in 1...3 { #expect(try get(key) == 503) }
        let failing = try process.waitForLine(
            containing: "Redis is failing", in: .stderr, timeout: .seconds(10))
        #expect(failing.contains("level=warn"))
        try redis.start()
        var key = 10
        try waitUntil("Redis is used again", timeout: .seconds(10), interval: .milliseconds(20)) {
            key += 1
            return try get(key) == 200
        }
        _ = try process.waitForLine(containing: "Redis answers again", in: .stderr, timeout: .seconds(10))
        try process.signal(SIGTERM)
        #expect(try process.waitForExit(timeout: .seconds(20)) == 0)
    }

    /// Flushed keys are full buckets again; a restarted Redis is used again once it is back
    /// (after the breaker's one-second pause), with the script sent anew.
    @Test func flushedKeysAndARestartedRedis() throws {
        let redis = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            config(upstream, redisPort: redis.port, burst: 3, key: "header:X-Key"))
        // Each phase has its own key: a refusal is remembered locally, whatever Redis does.
        func get(_ key: String) throws -> Int {
            try TestClient.get(port: gateway.port, path: "/f", headers: [("X-Key", key)]).status
        }
        let first = try (0..<2).map { _ in try get("a") }
        #expect(first == [200, 200])
        let client = try TestClient(port: redis.port)
        try client.send(Array("FLUSHALL\r\n".utf8))
        #expect(try readLine(client) == "+OK")
        let afterFlush = try (0..<4).map { _ in try get("a") }
        #expect(afterFlush == [200, 200, 200, 429])

        try redis.kill()
        #expect(try get("b") == 503)
        try redis.start()
        try waitUntil(
            "the gateway uses the restarted Redis", timeout: .seconds(10), interval: .milliseconds(50)
        ) {
            try get("c") == 200
        }
    }

    @Test func aReloadToAnotherRedisUsesItsBuckets() throws {
        let redis = try RedisServer()
        let other = try RedisServer()
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(config(upstream, redisPort: redis.port, burst: 2))
        let before = try (0..<3).map { _ in try TestClient.get(port: gateway.port, path: "/a").status }
        #expect(before == [200, 200, 429])
        let outcome = try gateway.reload(config(upstream, redisPort: other.port, burst: 2))
        #expect(outcome.changes.contains("cluster.redis changed: 127.0.0.1:\(other.port)"))
        let after = try (0..<3).map { _ in try TestClient.get(port: gateway.port, path: "/b").status }
        #expect(after == [200, 200, 429])
    }
}
