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
}
