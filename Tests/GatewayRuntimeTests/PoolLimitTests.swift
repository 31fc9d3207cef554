import Dispatch
import PorticoTesting
import Synchronization
import Testing

/// Pool limits (docs/configuration.md, "Pool limits"): at most `maxConnectionsPerServer`
/// connections per server across the process; requests beyond them wait for one, at most
/// `maxPending` per upstream, and the rest get 503 `upstream_overloaded`.
@Suite(.serialized, .timeLimit(.minutes(1))) struct PoolLimitTests {
    private func gateway(
        _ upstream: FakeUpstream, pool: String, route: String = "", workers: Int = 1
    ) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"\#(route)}]"#,
                upstreamExtra: #","pool":\#(pool)"#, admin: #"{"address":"127.0.0.1:0"}"#, workers: workers))
    }

    private func upstreamStats(_ gateway: GatewayHarness) throws -> TestJSON? {
        try gateway.adminClient().request(path: "/stats").json()["upstreams"]?["app"]
    }

    private func pending(_ gateway: GatewayHarness) throws -> Int? {
        try upstreamStats(gateway)?["pending"]?.intValue
    }

    /// Sends `GET path` on a new connection without waiting for the answer.
    private func startRequest(_ gateway: GatewayHarness, _ path: String) throws -> TestClient {
        let client = try TestClient(port: gateway.port)
        try client.sendRequest(method: "GET", path: path)
        return client
    }

    @Test func aRequestBeyondTheLimitWaitsAndTakesTheFreedConnection() throws {
        let release = try TestLatch()
        let upstream = try FakeUpstream(handler: .sequence([.waitFor(release), .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(upstream, pool: #"{"maxConnectionsPerServer":1,"maxPending":10}"#)
        let first = try startRequest(gateway, "/first")
        _ = try upstream.waitForRequests(count: 1)
        let second = try startRequest(gateway, "/second")
        try waitUntil("the second request waits") { (try? pending(gateway)) == 1 }
        #expect(upstream.acceptedConnections == 1)

        release.open()
        #expect(try first.readResponse().status == 200)
        #expect(try second.readResponse().status == 200)
        #expect(upstream.acceptedConnections == 1, "the waiter got the pooled connection")
        #expect(try pending(gateway) == 0)
    }

    /// A pool that keeps no idle connection still keeps one a waiting request needs.
    @Test func aWaiterGetsTheConnectionEvenWhenThePoolKeepsNoneIdle() throws {
        let release = try TestLatch()
        let upstream = try FakeUpstream(handler: .sequence([.waitFor(release), .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(
            upstream, pool: #"{"maxConnectionsPerServer":1,"maxIdlePerServer":0,"maxPending":10}"#)
        let first = try startRequest(gateway, "/first")
        _ = try upstream.waitForRequests(count: 1)
        let second = try startRequest(gateway, "/second")
        try waitUntil("the second request waits") { (try? pending(gateway)) == 1 }
        release.open()
        #expect(try first.readResponse().status == 200)
        #expect(try second.readResponse().status == 200)
        #expect(upstream.acceptedConnections == 1, "handed over, not closed and opened again")
    }

    @Test func beyondMaxPendingRequestsGet503UpstreamOverloaded() throws {
        let release = try TestLatch()
        let upstream = try FakeUpstream(handler: .sequence([.waitFor(release), .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(upstream, pool: #"{"maxConnectionsPerServer":1,"maxPending":1}"#)
        let first = try startRequest(gateway, "/first")
        _ = try upstream.waitForRequests(count: 1)
        let waiting = try startRequest(gateway, "/waiting")
        try waitUntil("one request waits") { (try? pending(gateway)) == 1 }

        let refused = try TestClient.get(port: gateway.port, path: "/refused")
        #expect(refused.status == 503)
        #expect(refused.header("X-Gateway-Error") == "upstream_overloaded")
        #expect(refused.jsonString("error") == "upstream_overloaded")

        release.open()
        #expect(try first.readResponse().status == 200)
        #expect(try waiting.readResponse().status == 200)
        #expect(try TestClient.get(port: gateway.port, path: "/later").status == 200)
        #expect(upstream.receivedRequests.map(\.path) == ["/first", "/waiting", "/later"])
    }

    @Test func aWaitEndsAtTheDeadlineWithoutBlamingTheServer() throws {
        let release = try TestLatch()
        let upstream = try FakeUpstream(handler: .sequence([.waitFor(release), .echo]))
        defer {
            release.open()
            upstream.stop()
        }
        let gateway = try gateway(
            upstream, pool: #"{"maxConnectionsPerServer":1}"#,
            route: #","timeoutMs":60000,"retries":{"maxRetries":0}"#)
        let first = try startRequest(gateway, "/first")
        _ = try upstream.waitForRequests(count: 1)

        let late = try TestClient.get(
            port: gateway.port, path: "/late", headers: [("X-Request-Timeout-Ms", "200")])
        #expect(late.status == 504)
        #expect(late.header("X-Gateway-Error") == "deadline_exceeded")
        let stats = try upstreamStats(gateway)
        #expect(stats?["pending"]?.intValue == 0)
        #expect(stats?["failures"]?.intValue == 0)
        #expect(stats?["servers"]?[upstream.address]?["circuit"]?.stringValue == "closed")

        // A client that gives up while it waits leaves the queue too.
        let gone = try startRequest(gateway, "/gone")
        try waitUntil("the request waits") { (try? pending(gateway)) == 1 }
        gone.close()
        try waitUntil("the request left the queue") { (try? pending(gateway)) == 0 }

        release.open()
        #expect(try first.readResponse().status == 200)
        #expect(upstream.receivedRequests.map(\.path) == ["/first"])
    }

    /// One connection for the whole process: requests that land on the other worker wait
    /// until the connection idle in the first worker's pool is closed for them.
    @Test func theLimitHoldsAcrossWorkers() throws {
        let inFlight = Mutex((now: 0, peak: 0))
        let upstream = try FakeUpstream { request, writer in
            inFlight.withLock {
                $0.now += 1
                $0.peak = max($0.peak, $0.now)
            }
            try writer.pause(.milliseconds(2))
            // Counted out before the answer goes: the next request can only come after it.
            inFlight.withLock { $0.now -= 1 }
            try FakeHandler.echo.respond(request, writer)
        }
        defer { upstream.stop() }
        let gateway = try gateway(
            upstream, pool: #"{"maxConnectionsPerServer":1,"maxPending":100}"#, workers: 2)
        let port = gateway.port
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for index in 0..<10 {
                let status = (try? TestClient.get(port: port, path: "/\(thread)/\(index)"))?.status ?? 0
                statuses.withLock { $0.append(status) }
            }
        }
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 40))
        #expect(inFlight.withLock { $0.peak } == 1)
        #expect(try pending(gateway) == 0)
    }
}
