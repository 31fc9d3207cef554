import Dispatch
import PorticoTesting
import Synchronization
import Testing

/// Per-route rate limits (docs/configuration.md, "Rate limiting") through the real gateway.
/// Rates are so low that no token comes back during a test: what is admitted is the burst.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RateLimitIntegrationTests {
    private func gateway(_ upstream: FakeUpstream, limit: String, workers: Int = 1) throws -> GatewayHarness {
        try GatewayHarness(Self.config(upstream, limit: limit, workers: workers))
    }

    private static func config(
        _ upstream: FakeUpstream, limit: String, workers: Int = 1, timeouts: String = "{}"
    ) -> String {
        GatewayHarness.config(
            upstreams: [("app", [upstream.address])],
            routes: #"[{"name":"api","match":{"pathPrefix":"/"},"upstream":"app","rateLimit":\#(limit)}]"#,
            timeouts: timeouts, admin: #"{"address":"127.0.0.1:0"}"#, workers: workers)
    }

    private func rateLimited(_ gateway: GatewayHarness) throws -> Int? {
        try gateway.adminClient().request(path: "/stats").json()["routes"]?["api"]?["rateLimited"]?.intValue
    }

    @Test func theBurstIsAdmittedExactlyAcrossWorkersThenRequestsGet429() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try gateway(
            upstream, limit: #"{"requestsPerSecond":0.01,"burst":20,"key":"global"}"#, workers: 2)
        let port = gateway.port
        let statuses = Mutex<[Int]>([])
        // Many connections from several threads, spread over both workers.
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<15 {
                let status = (try? TestClient.get(port: port, path: "/"))?.status ?? 0
                statuses.withLock { $0.append(status) }
            }
        }
        let all = statuses.withLock { $0 }
        #expect(all.filter { $0 == 200 }.count == 20)
        #expect(all.filter { $0 == 429 }.count == 40)
        #expect(upstream.receivedRequests.count == 20, "refused requests never reach the upstream")
        #expect(try rateLimited(gateway) == 40)

        let refused = try TestClient.get(port: port, path: "/")
        #expect(refused.status == 429)
        #expect(refused.header("X-Gateway-Error") == "rate_limited")
        #expect(refused.jsonString("error") == "rate_limited")
        #expect(refused.header("RateLimit-Remaining") == "0")
        #expect(refused.header("RateLimit-Limit") == "20")
        // One token every 100 s: the next comes in at most 100 s.
        let retryAfter = try #require(refused.header("Retry-After").flatMap { Int($0) })
        #expect((1...100).contains(retryAfter))
    }

    @Test func eachClientAddressHasItsOwnBucket() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try gateway(upstream, limit: #"{"requestsPerSecond":0.01,"burst":2}"#)
        func status(from host: UInt32) throws -> Int {
            let client = try TestClient(port: gateway.port, sourceHost: host)
            defer { client.close() }
            return try client.request(method: "GET", path: "/").status
        }
        #expect(try (0..<3).map { _ in try status(from: 0x7f00_0002) } == [200, 200, 429])
        #expect(try (0..<3).map { _ in try status(from: 0x7f00_0003) } == [200, 200, 429])
    }

    @Test func headerKeysAndRequestsWithoutTheHeaderShareOneBucket() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try gateway(
            upstream, limit: #"{"requestsPerSecond":0.01,"burst":1,"key":"header:X-Api-Key"}"#)
        func status(_ key: String?) throws -> Int {
            try TestClient.get(port: gateway.port, path: "/", headers: key.map { [("x-api-key", $0)] } ?? [])
                .status
        }
        #expect(try status("alpha") == 200)
        #expect(try status("alpha") == 429)
        #expect(try status("beta") == 200)
        #expect(try status(nil) == 200)
        #expect(try status(nil) == 429)
    }

    @Test func everyResponseCarriesTheRateLimitFields() throws {
        let upstream = try FakeUpstream(
            handler: .status(200, body: "ok", headers: [("RateLimit-Remaining", "999"), ("ratelimit", "x")]))
        defer { upstream.stop() }
        let gateway = try gateway(upstream, limit: #"{"requestsPerSecond":0.5,"burst":3}"#)
        let client = try TestClient(port: gateway.port)
        for remaining in [2, 1, 0] {
            let response = try client.request(method: "GET", path: "/")
            #expect(response.status == 200)
            #expect(response.header("RateLimit-Limit") == "3")
            #expect(
                response.headers("RateLimit-Remaining") == ["\(remaining)"], "the upstream's own is dropped")
            let reset = try #require(response.header("RateLimit-Reset").flatMap { Int($0) })
            #expect(reset == 2 * (3 - remaining), "seconds until the bucket is full again")
            #expect(response.header("RateLimit-Policy") == #""api";q=3;w=6"#)
            #expect(response.headers("RateLimit") == [#""api";r=\#(remaining);t=\#(reset)"#])
        }
        let refused = try client.request(method: "GET", path: "/")
        #expect(refused.status == 429)
        #expect(refused.header("Retry-After") == "2")
        #expect(refused.header("RateLimit") == #""api";r=0;t=6"#)
    }

    @Test func aGatewayErrorOnALimitedRouteCarriesTheFieldsToo() throws {
        let refusing = "127.0.0.1:\(try ProcessRunner.freePort())"
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [refusing])],
                routes:
                    #"[{"name":"api","match":{"pathPrefix":"/"},"upstream":"app","retries":{"maxRetries":0},"rateLimit":{"requestsPerSecond":1,"burst":5}}]"#
            ))
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 502)
        #expect(response.header("RateLimit-Remaining") == "4")
        #expect(response.header("RateLimit-Policy") == #""api";q=5;w=5"#)
    }

    @Test func directResponsesAreLimitedToo() throws {
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [],
                routes:
                    #"[{"name":"ping","match":{"path":"/ping"},"directResponse":{"status":200,"body":"pong"},"rateLimit":{"requestsPerSecond":0.01,"burst":1}}]"#
            ))
        let first = try TestClient.get(port: gateway.port, path: "/ping")
        #expect(first.status == 200)
        #expect(first.bodyString == "pong")
        #expect(first.header("RateLimit") == #""ping";r=0;t=100"#)
        let second = try TestClient.get(port: gateway.port, path: "/ping")
        #expect(second.status == 429)
        #expect(second.header("Retry-After") == "100")
    }

    @Test func aDryRunCountsButRefusesNothing() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try gateway(upstream, limit: #"{"requestsPerSecond":0.01,"burst":1,"dryRun":true}"#)
        let statuses = try (0..<3).map { _ in try TestClient.get(port: gateway.port, path: "/") }
        #expect(statuses.map(\.status) == [200, 200, 200])
        #expect(statuses.map { $0.header("RateLimit-Remaining") } == ["0", "0", "0"], "the would-be numbers")
        #expect(statuses.allSatisfy { $0.header("Retry-After") == nil })
        #expect(upstream.receivedRequests.count == 3)
        #expect(try rateLimited(gateway) == 2)
    }

    @Test func aReloadKeepsTheBucketsOfAnUnchangedLimit() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let limit = #"{"requestsPerSecond":0.01,"burst":1}"#
        let gateway = try gateway(upstream, limit: limit)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 429)

        // The same limit (the file changes elsewhere): the spent bucket stays spent.
        _ = try gateway.reload(Self.config(upstream, limit: limit, timeouts: #"{"idleMs":30000}"#))
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 429)

        // A changed limit starts with full buckets.
        _ = try gateway.reload(Self.config(upstream, limit: #"{"requestsPerSecond":0.02,"burst":1}"#))
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 429)
    }
}
