import Glibc
import PorticoTesting
import Synchronization
import Testing

/// Active health checks (docs/configuration.md, `healthCheck`): one `GET path` per server
/// every `intervalMs`; `unhealthyThreshold` failures in a row take a server out,
/// `healthyThreshold` successes put it back; servers start healthy.
@Suite(.serialized, .timeLimit(.minutes(1))) struct HealthCheckTests {
    /// The status a fake server's `/healthz` answers, switchable while the test runs.
    private final class HealthSwitch: Sendable {
        private let status = Atomic(200)
        func set(_ value: Int) { status.store(value, ordering: .relaxed) }

        /// Answers `/healthz` with the current status, every other path like `.echo`.
        var handler: FakeHandler {
            FakeHandler { request, writer in
                if request.target == "/healthz" {
                    try FakeHandler.status(self.status.load(ordering: .relaxed)).respond(request, writer)
                } else {
                    try FakeHandler.echo.respond(request, writer)
                }
            }
        }
    }

    private static let check =
        #","healthCheck":{"path":"/healthz","intervalMs":40,"timeoutMs":300,"unhealthyThreshold":2,"healthyThreshold":2}"#

    private func gateway(_ servers: [String], check: String = Self.check) throws -> GatewayHarness {
        try GatewayHarness(Self.config(servers, check: check))
    }

    private static func config(_ servers: [String], check: String = Self.check, workers: Int = 1) -> String {
        GatewayHarness.config(
            upstreams: [("app", servers)],
            routes:
                #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app","retries":{"maxRetries":0}}]"#,
            upstreamExtra: check, admin: #"{"address":"127.0.0.1:0"}"#, workers: workers)
    }

    private func healthy(_ gateway: GatewayHarness, _ address: String) throws -> Bool? {
        let stats = try gateway.adminClient().request(path: "/stats").json()
        return stats["upstreams"]?["app"]?["servers"]?[address]?["healthy"]?.boolValue
    }

    private func traffic(_ server: FakeUpstream) -> Int {
        server.receivedRequests.filter { $0.target != "/healthz" }.count
    }

    @Test func aFailingServerIsTakenOutAndPutBackWhenItRecovers() throws {
        let health = HealthSwitch()
        let flaky = try FakeUpstream(name: "flaky", handler: health.handler)
        let steady = try FakeUpstream(name: "steady", handler: .echo)
        defer {
            flaky.stop()
            steady.stop()
        }
        let gateway = try gateway([flaky.address, steady.address])
        #expect(try healthy(gateway, flaky.address) == true, "servers start healthy")
        try waitUntil("the first probes reach both servers") {
            flaky.receivedRequests.contains { $0.target == "/healthz" }
                && steady.receivedRequests.contains { $0.target == "/healthz" }
        }
        let probe = try #require(flaky.receivedRequests.first { $0.target == "/healthz" })
        #expect(probe.method == "GET")

        health.set(503)
        try waitUntil("two failed probes take the server out") {
            (try? healthy(gateway, flaky.address)) == false
        }
        let before = traffic(flaky)
        for _ in 0..<8 {
            let response = try TestClient.get(port: gateway.port, path: "/work")
            #expect(response.header("X-Fake-Upstream") == "steady")
        }
        #expect(traffic(flaky) == before, "no traffic while unhealthy")
        #expect(try healthy(gateway, steady.address) == true)

        health.set(204)
        try waitUntil("two passing probes put it back") { (try? healthy(gateway, flaky.address)) == true }
        var answeredBy: Set<String> = []
        for _ in 0..<4 {
            answeredBy.insert(
                try TestClient.get(port: gateway.port, path: "/work").header("X-Fake-Upstream") ?? "")
        }
        #expect(answeredBy == ["flaky", "steady"])
    }

    @Test func everyServerUnhealthyAnswers503NoHealthyUpstream() throws {
        let health = HealthSwitch()
        let server = try FakeUpstream(handler: health.handler)
        defer { server.stop() }
        let gateway = try gateway([server.address])
        health.set(500)
        try waitUntil("the only server is taken out") { (try? healthy(gateway, server.address)) == false }
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 503)
        #expect(response.header("X-Gateway-Error") == "no_healthy_upstream")
        #expect(try response.json()["error"]?.stringValue == "no_healthy_upstream")
    }

    @Test func aRefusedOrSlowProbeFails() throws {
        let refused = "127.0.0.1:\(try ProcessRunner.freePort())"
        let slow = try FakeUpstream(handler: .delay(.seconds(2)))
        defer { slow.stop() }
        let gateway = try gateway([refused, slow.address])
        try waitUntil("a refused connection counts as a failure") {
            (try? healthy(gateway, refused)) == false
        }
        try waitUntil("no answer within timeoutMs counts as a failure") {
            (try? healthy(gateway, slow.address)) == false
        }
    }

    @Test func healthCarriesOverAReloadAndChecksStopWhenRemoved() throws {
        let health = HealthSwitch()
        let server = try FakeUpstream(handler: health.handler)
        defer { server.stop() }
        let gateway = try gateway([server.address])
        health.set(503)
        try waitUntil("the server is taken out") { (try? healthy(gateway, server.address)) == false }

        // Same server, slower probes: the health it earned stays.
        let slower = #","healthCheck":{"intervalMs":60000,"unhealthyThreshold":2,"healthyThreshold":2}"#
        #expect(try gateway.reload(Self.config([server.address], check: slower)).errors.isEmpty)
        #expect(try healthy(gateway, server.address) == false)
        #expect(
            try TestClient.get(port: gateway.port, path: "/").header("X-Gateway-Error")
                == "no_healthy_upstream")

        // Without a health check the server takes traffic again and is not probed.
        #expect(try gateway.reload(Self.config([server.address], check: "")).errors.isEmpty)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        let probes = server.receivedRequests.filter { $0.target == "/healthz" }.count
        #expect(try healthy(gateway, server.address) == true)
        // The absence of probes cannot be awaited: they came every 40 ms, so at most the one
        // in flight when the reload stopped them may arrive in four times that.
        usleep(160_000)
        #expect(server.receivedRequests.filter { $0.target == "/healthz" }.count <= probes + 1)

        // A check that comes back starts from healthy, not from what the old one found.
        #expect(try gateway.reload(Self.config([server.address], check: slower)).errors.isEmpty)
        #expect(try healthy(gateway, server.address) == true)
    }
}
