import PorticoTesting
import Testing

/// Pooled upstream connections: kept for `pool.idleTimeoutMs` while idle, never closed while
/// a request uses them (the idle timer is armed lazily and may fire during a later request).
@Suite(.serialized, .timeLimit(.minutes(1))) struct UpstreamPoolTests {
    private func gateway(_ upstream: FakeUpstream, idleTimeoutMs: Int) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                upstreamExtra: #","pool":{"idleTimeoutMs":\#(idleTimeoutMs)}"#))
    }

    @Test func idleConnectionClosesAfterItsIdleTimeout() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try gateway(upstream, idleTimeoutMs: 100)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        try upstream.waitForAcceptedConnections(count: 1)
        try upstream.waitForOpenConnections(atMost: 0, timeout: .seconds(5))
        // The next request opens a new connection.
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        #expect(upstream.acceptedConnections == 2)
    }

    @Test func connectionInUseOutlivesAnEarlierIdleTimer() throws {
        // The first request leaves the connection pooled with a 150 ms idle timer; the second
        // takes it at once and lasts longer than that, so the timer fires while it is in use.
        let upstream = try FakeUpstream(
            handler: .sequence([.echo, .delay(.milliseconds(400), then: .echo), .echo]))
        let gateway = try gateway(upstream, idleTimeoutMs: 150)
        let client = try gateway.client()
        #expect(try client.request(path: "/first").status == 200)
        #expect(try client.request(path: "/slow").status == 200)
        #expect(try client.request(path: "/third").status == 200)
        #expect(upstream.acceptedConnections == 1)
        #expect(upstream.receivedRequests.map(\.connectionIndex) == [0, 0, 0])
    }

    /// Exchanges are reused: one whose connect failed must not carry the head it never sent
    /// into the next request, which here reuses a pooled connection.
    @Test func failedConnectLeavesNothingForTheNextRequest() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let nobody = "127.0.0.1:\(try ProcessRunner.freePort())"
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address]), ("dead", [nobody])],
                routes: """
                    [{"name":"dead","match":{"pathPrefix":"/dead"},"upstream":"dead"},
                     {"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]
                    """))
        let client = try gateway.client()
        #expect(try client.request(path: "/first").status == 200)
        #expect(try client.request(path: "/dead").status == 502)
        #expect(try client.request(path: "/third").status == 200)
        #expect(try client.request(path: "/fourth").status == 200)
        #expect(upstream.receivedRequests.map(\.target) == ["/first", "/third", "/fourth"])
        #expect(upstream.acceptedConnections == 1)
    }
}
