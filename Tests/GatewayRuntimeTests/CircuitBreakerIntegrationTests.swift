import PorticoTesting
import Testing

/// Circuit breakers per server (docs/configuration.md, `circuitBreaker`): consecutive
/// failures open a server's circuit, it gets no traffic for `openMs`, then a trial decides.
@Suite(.serialized, .timeLimit(.minutes(1))) struct CircuitBreakerIntegrationTests {
    private func gateway(_ servers: [String], breaker: String) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", servers)],
                routes:
                    #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app","retries":{"maxRetries":0}}]"#,
                upstreamExtra: #","circuitBreaker":\#(breaker)"#, admin: #"{"address":"127.0.0.1:0"}"#))
    }

    private func circuit(_ gateway: GatewayHarness, _ server: FakeUpstream) throws -> String? {
        let stats = try gateway.adminClient().request(path: "/stats").json()
        return stats["upstreams"]?["app"]?["servers"]?[server.address]?["circuit"]?.stringValue
    }

    @Test func aFailingServerIsTakenOutThenGetsATrialAfterOpenMs() throws {
        let failing = try FakeUpstream(name: "failing", handler: .status(503))
        let healthy = try FakeUpstream(name: "healthy", handler: .echo)
        defer {
            failing.stop()
            healthy.stop()
        }
        let gateway = try gateway(
            [failing.address, healthy.address], breaker: #"{"failureThreshold":3,"openMs":400}"#)
        // Round robin alternates until the third failure in a row opens the circuit.
        for _ in 0..<6 { _ = try TestClient.get(port: gateway.port, path: "/") }
        #expect(failing.receivedRequests.count == 3)
        #expect(try circuit(gateway, failing) == "open")
        #expect(try circuit(gateway, healthy) == "closed")
        for _ in 0..<10 {
            #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        }
        #expect(failing.receivedRequests.count == 3, "no traffic while open")

        try waitUntil("openMs passes") { (try? circuit(gateway, failing)) == "half_open" }
        for _ in 0..<4 { _ = try TestClient.get(port: gateway.port, path: "/") }
        #expect(failing.receivedRequests.count == 4, "one trial request, which fails")
        #expect(try circuit(gateway, failing) == "open")
    }

    @Test func aSuccessfulTrialClosesTheCircuit() throws {
        let flaky = try FakeUpstream(handler: .sequence([.status(500), .status(500), .echo]))
        defer { flaky.stop() }
        let gateway = try gateway([flaky.address], breaker: #"{"failureThreshold":2,"openMs":200}"#)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 500)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 500)
        let refused = try TestClient.get(port: gateway.port, path: "/")
        #expect(refused.status == 503)
        #expect(refused.header("X-Gateway-Error") == "circuit_open")
        try waitUntil("openMs passes") { (try? circuit(gateway, flaky)) == "half_open" }
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        #expect(try circuit(gateway, flaky) == "closed")
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        #expect(flaky.receivedRequests.count == 4)
    }

    @Test func theBreakerCountsConnectFailures() throws {
        let refused = "127.0.0.1:\(try ProcessRunner.freePort())"
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [refused])],
                routes:
                    #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app","retries":{"maxRetries":0}}]"#,
                upstreamExtra: #","circuitBreaker":{"failureThreshold":2,"openMs":60000}"#))
        #expect(
            try TestClient.get(port: gateway.port, path: "/").header("X-Gateway-Error")
                == "upstream_connect_failed")
        #expect(
            try TestClient.get(port: gateway.port, path: "/").header("X-Gateway-Error")
                == "upstream_connect_failed")
        #expect(try TestClient.get(port: gateway.port, path: "/").header("X-Gateway-Error") == "circuit_open")
    }

    /// A retried status below 500 is an answer, not a failure: it never opens the circuit.
    @Test func retried429sDoNotOpenTheCircuit() throws {
        let limited = try FakeUpstream(handler: .status(429))
        defer { limited.stop() }
        let gateway = try retrying(
            limited, on: #""retryOn":["retriable_status"],"retriableStatusCodes":[429],"budgetPercent":100"#)
        for _ in 0..<3 {
            let response = try TestClient.get(port: gateway.port, path: "/")
            #expect(response.status == 429, "\(response.header("X-Gateway-Error") ?? "")")
        }
        #expect(limited.receivedRequests.count == 9, "three attempts per request")
        #expect(try circuit(gateway, limited) == "closed")
    }

    /// When a retried 5xx opens the only server's circuit, no retry is promised that could
    /// not be made: the client gets the server's last answer, not 503 `circuit_open`.
    @Test func aRetryIsNotMadeWhenNoServerCouldTakeIt() throws {
        let failing = try FakeUpstream(handler: .status(503, body: "busy"))
        defer { failing.stop() }
        let gateway = try retrying(failing, on: #""retryOn":["5xx"]"#)
        let first = try TestClient.get(port: gateway.port, path: "/")
        #expect(first.status == 503)
        #expect(first.header("X-Gateway-Error") == nil, "the server's own 503")
        #expect(first.bodyString == "busy")
        #expect(failing.receivedRequests.count == 2, "the second failure opened the circuit")
        let retries = try gateway.adminClient().request(path: "/stats").json()["routes"]?["app"]?["retries"]
        #expect(retries?.intValue == 1, "only the retry that was made counts")
        #expect(try TestClient.get(port: gateway.port, path: "/").header("X-Gateway-Error") == "circuit_open")
    }

    private func retrying(_ server: FakeUpstream, on conditions: String) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [server.address])],
                routes: #"""
                    [{"name":"app","match":{"pathPrefix":"/"},"upstream":"app",
                      "retries":{"maxRetries":2,\#(conditions),"backoff":{"baseMs":1,"maxMs":1}}}]
                    """#,
                upstreamExtra: #","circuitBreaker":{"failureThreshold":2,"openMs":60000}"#,
                admin: #"{"address":"127.0.0.1:0"}"#))
    }
}
