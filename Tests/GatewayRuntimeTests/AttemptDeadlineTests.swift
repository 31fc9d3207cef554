import PorticoTesting
import Testing

/// Each attempt's own deadline (`perTryTimeoutMs`) and the `X-Request-Timeout-Ms` every
/// attempt carries: what is left of that attempt's deadline when it goes out.
@Suite(.serialized, .timeLimit(.minutes(1))) struct AttemptDeadlineTests {
    private func timeoutHeader(_ upstream: FakeUpstream) throws -> Int? {
        let request = try #require(try upstream.waitForRequests(count: 1).first)
        return request.header("X-Request-Timeout-Ms").flatMap { Int($0) }
    }

    @Test func perTryTimeoutEndsAnAttemptWithAGatewayTimeout() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        // The upstream answers only once the client has its answer: a 504 cannot be a race.
        let upstream = try FakeUpstream(handler: .waitFor(latch))
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(
            upstream, route: #""timeoutMs":30000,"retries":{"perTryTimeoutMs":150}"#)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 504)
        #expect(response.header("X-Gateway-Error") == "deadline_exceeded")
        let sent = try #require(try timeoutHeader(upstream))
        #expect(sent > 0 && sent <= 150, "the attempt's own budget, not the route's")
    }

    @Test func aPerTryLimitAloneStillTellsTheUpstream() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(
            upstream, route: #""timeoutMs":0,"retries":{"perTryTimeoutMs":300}"#)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        let sent = try #require(try timeoutHeader(upstream))
        #expect(sent > 0 && sent <= 300)
    }

    @Test func noDeadlineAtAllSendsNoHeader() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream, route: #""timeoutMs":0"#)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        #expect(try timeoutHeader(upstream) == nil)
    }

    /// The header says what is left when the attempt goes out, never more than the client's
    /// own limit, on a new connection as on a pooled one.
    @Test func theHeaderNeverExceedsWhatIsLeft() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream, route: #""timeoutMs":2000"#)
        let client = try gateway.client()
        for (index, asked) in [("new connection", 800), ("pooled connection", 500)].enumerated() {
            let response = try client.request(path: "/", headers: [("X-Request-Timeout-Ms", "\(asked.1)")])
            #expect(response.status == 200)
            let request = try #require(try upstream.waitForRequests(count: index + 1).last)
            let sent = try #require(request.header("X-Request-Timeout-Ms").flatMap { Int($0) })
            #expect(sent > 0 && sent <= asked.1, "\(asked.0)")
        }
        #expect(upstream.acceptedConnections == 1)
    }
}
