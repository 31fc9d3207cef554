import PorticoTesting
import Testing

/// Retries (docs/configuration.md, `retries`): only on the listed conditions, idempotency
/// respected, bodies replayed, another server preferred, and never beyond the route's budget.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RetryTests {
    private func gateway(
        servers: [String], retries: String, admin: Bool = true, extra: String = "", upstreamExtra: String = ""
    ) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", servers)],
                routes:
                    #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app","retries":\#(retries)\#(extra)}]"#,
                upstreamExtra: upstreamExtra, admin: admin ? #"{"address":"127.0.0.1:0"}"# : nil))
    }

    private func routeStats(_ gateway: GatewayHarness) throws -> TestJSON? {
        try gateway.adminClient().request(path: "/stats").json()["routes"]?["app"]
    }

    @Test func aRefusedConnectIsRetriedOnAnotherServer() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let refused = "127.0.0.1:\(try ProcessRunner.freePort())"
        let gateway = try gateway(
            servers: [refused, upstream.address],
            retries: #"{"maxRetries":1,"backoff":{"baseMs":1,"maxMs":1}}"#)
        for _ in 0..<6 {
            let response = try TestClient.get(port: gateway.port, path: "/")
            #expect(response.status == 200)
        }
        #expect(upstream.receivedRequests.count == 6)
        let route = try routeStats(gateway)
        #expect(
            route?["retries"]?.intValue == 3,
            "round robin sends every other request to the refusing server first")
    }

    @Test func aResetPostIsNotRetriedButAResetGetIs() throws {
        let upstream = try FakeUpstream(handler: .sequence([.reset, .echo, .reset, .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(
            servers: [upstream.address],
            retries: #"{"maxRetries":2,"retryOn":["reset"],"backoff":{"baseMs":1,"maxMs":1}}"#)
        let post = try TestClient.get(port: gateway.port, path: "/once")
        #expect(post.status == 200, "a GET reset once is tried again")
        let client = try gateway.client()
        let refused = try client.request(method: "POST", path: "/post", body: "x")
        #expect(refused.status == 502)
        #expect(refused.header("X-Gateway-Error") == "upstream_reset")
        #expect(upstream.receivedRequests.map(\.target) == ["/once", "/once", "/post"])
    }

    /// An idempotent request's body (kept while it goes out) is sent again, whole, on the retry.
    @Test func aRetryReplaysTheRequestBody() throws {
        let upstream = try FakeUpstream(handler: .sequence([.reset, .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(
            servers: [upstream.address], retries: #"{"retryOn":["reset"],"backoff":{"baseMs":1,"maxMs":1}}"#)
        let body = String(repeating: "abcdefghij", count: 3000)
        let response = try TestClient(port: gateway.port).request(method: "PUT", path: "/put", body: body)
        #expect(response.status == 200)
        let received = upstream.receivedRequests
        #expect(received.count == 2)
        #expect(received.map { String(decoding: $0.body, as: UTF8.self) } == [body, body])
    }

    @Test func aRetriedStatusThatRunsOutIsPassedThroughAsIs() throws {
        let upstream = try FakeUpstream(
            handler: .status(503, body: "busy", headers: [("X-Why", "maintenance")]))
        defer { upstream.stop() }
        let gateway = try gateway(
            servers: [upstream.address],
            retries: #"{"maxRetries":2,"retryOn":["5xx"],"backoff":{"baseMs":1,"maxMs":1}}"#)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 503)
        #expect(response.bodyString == "busy")
        #expect(response.header("X-Why") == "maintenance")
        #expect(response.header("X-Gateway-Error") == nil)
        #expect(upstream.receivedRequests.count == 3)
    }

    /// A Retry-After the deadline leaves room for is waited out; one it does not is not
    /// retried at all.
    @Test func retryAfterIsHonouredWhenItFitsTheDeadline() throws {
        let upstream = try FakeUpstream(
            handler: .sequence([.status(503, headers: [("Retry-After", "1")]), .echo]))
        defer { upstream.stop() }
        let fits = try gateway(
            servers: [upstream.address], retries: #"{"retryOn":["gateway_error"]}"#,
            extra: #","timeoutMs":5000"#)
        #expect(try TestClient.get(port: fits.port, path: "/").status == 200)
        #expect(upstream.receivedRequests.count == 2)

        let second = try FakeUpstream(handler: .status(503, headers: [("Retry-After", "60")]))
        defer { second.stop() }
        let tooLong = try gateway(
            servers: [second.address], retries: #"{"retryOn":["gateway_error"]}"#,
            extra: #","timeoutMs":2000"#)
        let response = try TestClient.get(port: tooLong.port, path: "/")
        #expect(response.status == 503)
        #expect(second.receivedRequests.count == 1)
    }

    /// The wait before a retry is not idleness: an idle timeout shorter than a Retry-After
    /// that fits the deadline does not cut it short. Without a deadline, the idle timeout
    /// is the longest Retry-After waited for.
    @Test func aRetryAfterWaitIsNotAnIdleTimeout() throws {
        func gateway(_ upstream: FakeUpstream, timeoutMs: Int) throws -> GatewayHarness {
            try GatewayHarness(
                GatewayHarness.config(
                    upstreams: [("app", [upstream.address])],
                    routes: #"""
                        [{"name":"app","match":{"pathPrefix":"/"},"upstream":"app","timeoutMs":\#(timeoutMs),
                          "retries":{"retryOn":["gateway_error"]}}]
                        """#,
                    timeouts: #"{"idleMs":400}"#))
        }
        let recovering = try FakeUpstream(
            handler: .sequence([.status(503, headers: [("Retry-After", "1")]), .echo]))
        defer { recovering.stop() }
        let withDeadline = try gateway(recovering, timeoutMs: 5000)
        #expect(try TestClient.get(port: withDeadline.port, path: "/").status == 200)
        #expect(recovering.receivedRequests.count == 2)

        let busy = try FakeUpstream(handler: .status(503, headers: [("Retry-After", "1")]))
        defer { busy.stop() }
        let noDeadline = try gateway(busy, timeoutMs: 0)
        let response = try TestClient.get(port: noDeadline.port, path: "/")
        #expect(response.status == 503)
        #expect(response.header("X-Gateway-Error") == nil, "the server's own 503, not a gateway timeout")
        #expect(busy.receivedRequests.count == 1)
    }

    /// With one server failing every request, retries stay within the route's budget: 20% of
    /// the requests in the window plus 3, however many requests fail.
    @Test func retriesStayWithinTheBudget() throws {
        let upstream = try FakeUpstream(handler: .status(502))
        defer { upstream.stop() }
        let gateway = try gateway(
            servers: [upstream.address],
            retries:
                #"{"maxRetries":2,"retryOn":["gateway_error"],"budgetPercent":20,"backoff":{"baseMs":1,"maxMs":1}}"#,
            // The breaker would stop the traffic long before the budget; here it never opens.
            admin: true, upstreamExtra: #","circuitBreaker":{"failureThreshold":10000}"#)
        let client = try gateway.client()
        let requests = 1000
        for _ in 0..<requests {
            #expect(try client.request(path: "/").status == 502)
        }
        let attempts = upstream.receivedRequests.count
        let retries = attempts - requests
        #expect(retries <= requests * 20 / 100 + 3, "\(retries) retries for \(requests) requests")
        #expect(retries >= 3)
        #expect(try routeStats(gateway)?["retries"]?.intValue == retries)
    }
}
