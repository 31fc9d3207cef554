import PorticoTesting
import Synchronization
import Testing

/// Configuration keys acted on through the real gateway (scripts/schema.d/acted_on.py): each
/// test sets a key to a value other than its default and fails if the gateway used the
/// default instead (docs/configuration.md gives every default).
@Suite(.serialized, .timeLimit(.minutes(1))) struct ConfigBehaviourTests {
    private static let admin = #"{"address":"127.0.0.1:0"}"#

    private func stats(_ gateway: GatewayHarness) throws -> TestJSON {
        try gateway.adminClient().request(path: "/stats").json()
    }

    private func server(_ gateway: GatewayHarness, _ upstream: String, _ address: String) throws -> TestJSON?
    {
        try stats(gateway)["upstreams"]?[upstream]?["servers"]?[address]
    }

    // MARK: limits

    /// `maxRequestHeaderBytes` 1024: a 2 KiB head (well under the default 16384) is 431, a
    /// 1.5 KiB request line 414, a small head goes through.
    @Test func requestHeadsOverTheSetLimitAreRefused() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream, limits: #"{"maxRequestHeaderBytes":1024}"#)

        #expect(try TestClient.get(port: gateway.port, path: "/small").status == 200)

        let fields = try gateway.client()
        try fields.send(
            "GET /big HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 2048) + "\r\n\r\n")
        let tooLarge = try fields.readResponse()
        #expect(tooLarge.status == 431)
        #expect(tooLarge.header("X-Gateway-Error") == "headers_too_large")
        #expect(tooLarge.jsonString("error") == "headers_too_large")
        #expect(fields.isClosedByPeer())

        let line = try gateway.client()
        try line.send("GET /" + String(repeating: "a", count: 1536) + " HTTP/1.1\r\nHost: a\r\n\r\n")
        let tooLong = try line.readResponse()
        #expect(tooLong.status == 414)
        #expect(tooLong.header("X-Gateway-Error") == "uri_too_long")

        // Just under the limit still passes: the limit is the set one, not a smaller one.
        let nearLimit = try TestClient.get(
            port: gateway.port, path: "/near", headers: [("X-Pad", String(repeating: "p", count: 800))])
        #expect(nearLimit.status == 200)
        #expect(upstream.receivedRequests.map(\.path) == ["/small", "/near"])
    }

    /// `maxResponseHeaderBytes` 1024: an upstream head of about 2 KiB (well under the default
    /// 32768) is 502 `upstream_bad_response`; a small one is passed on.
    @Test func upstreamHeadsOverTheSetLimitAre502BadResponse() throws {
        let upstream = try FakeUpstream { request, writer in
            let size = request.path == "/big" ? 2048 : 16
            try writer.writeResponse(
                status: 200, headers: [("X-Big", String(repeating: "h", count: size))], body: "ok")
        }
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(
            upstream, limits: #"{"maxResponseHeaderBytes":1024}"#, route: #""retries":{"maxRetries":0}"#)
        let client = try gateway.client()

        let big = try client.request(path: "/big")
        #expect(big.status == 502)
        #expect(big.header("X-Gateway-Error") == "upstream_bad_response")
        #expect(big.jsonString("error") == "upstream_bad_response")
        #expect(big.header("X-Big") == nil)

        let small = try client.request(path: "/small")
        #expect(small.status == 200)
        #expect(small.bodyString == "ok")
        #expect(small.header("X-Big")?.count == 16)
    }

    // MARK: upstreams

    /// `servers[].weight` 3 and 1 with `round_robin` (smooth weighted): on one connection
    /// through one worker every run of four requests has three for `a` and one for `b`
    /// (equal weights would give two each); and 5, 1, 1 picks the documented `a a b a c a a`.
    @Test func roundRobinSharesFollowTheWeightsExactly() throws {
        let a = try FakeUpstream(name: "a", handler: .echo)
        let b = try FakeUpstream(name: "b", handler: .echo)
        let c = try FakeUpstream(name: "c", handler: .echo)
        defer {
            a.stop()
            b.stop()
            c.stop()
        }
        func gateway(_ servers: [(FakeUpstream, Int)]) throws -> GatewayHarness {
            let list = servers.map { #"{"address":"\#($0.0.address)","weight":\#($0.1)}"# }
            return try GatewayHarness(
                """
                {"workers":1,"listeners":[{"name":"http","address":"127.0.0.1:0"}],"accessLog":{"path":"off"},
                 "upstreams":{"app":{"balance":"round_robin","servers":[\(list.joined(separator: ","))]}},
                 "routes":[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]}
                """)
        }
        func picks(_ gateway: GatewayHarness, count: Int) throws -> [String] {
            let client = try gateway.client()
            return try (0..<count).map { index in
                let response = try client.request(path: "/\(index)")
                #expect(response.status == 200)
                return response.header("X-Fake-Upstream") ?? "none"
            }
        }

        let threeToOne = try picks(try gateway([(a, 3), (b, 1)]), count: 40)
        #expect(threeToOne.filter { $0 == "a" }.count == 30)
        #expect(threeToOne.filter { $0 == "b" }.count == 10)
        for start in stride(from: 0, to: 40, by: 4) {
            let run = threeToOne[start..<start + 4]
            #expect(run.filter { $0 == "a" }.count == 3, "requests \(start)..<\(start + 4): \(Array(run))")
        }

        let documented = try picks(try gateway([(a, 5), (b, 1), (c, 1)]), count: 14)
        #expect(documented == Array(repeating: ["a", "a", "b", "a", "c", "a", "a"], count: 2).flatMap { $0 })
    }

    /// `pool.maxIdlePerServer` 1: three requests in flight at once open three upstream
    /// connections; once they are answered the worker keeps one idle and closes the other
    /// two (the default, 1024, would keep all three).
    @Test func idleConnectionsBeyondTheCapAreClosed() throws {
        let release = try TestLatch()
        let upstream = try FakeUpstream(handler: .waitFor(release))
        defer {
            release.open()
            upstream.stop()
        }
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                upstreamExtra: #","pool":{"maxIdlePerServer":1}"#, admin: Self.admin))
        var clients: [TestClient] = []
        for index in 0..<3 {
            let client = try gateway.client()
            try client.sendRequest(path: "/held/\(index)")
            clients.append(client)
        }
        _ = try upstream.waitForRequests(count: 3)
        #expect(upstream.acceptedConnections == 3)
        #expect(upstream.openConnections == 3)

        release.open()
        for client in clients {
            #expect(try client.readResponse().status == 200)
        }
        try upstream.waitForOpenConnections(atMost: 1)
        #expect(try server(gateway, "app", upstream.address)?["idleConnections"]?.intValue == 1)
        #expect(upstream.openConnections == 1, "one connection stays pooled")

        // The one kept is used again.
        #expect(try TestClient.get(port: gateway.port, path: "/again").status == 200)
        #expect(upstream.acceptedConnections == 3)
    }

    /// `healthCheck.path` "/probe": probes go there and nowhere else; a server failing only on
    /// `/probe` is taken out, one failing only on the default `/healthz` stays in.
    @Test func healthChecksProbeTheSetPath() throws {
        func answering(failOn failing: String) -> FakeHandler {
            FakeHandler { request, writer in
                if request.path == failing {
                    try FakeHandler.status(503).respond(request, writer)
                } else {
                    try FakeHandler.echo.respond(request, writer)
                }
            }
        }
        let failsProbe = try FakeUpstream(name: "failsProbe", handler: answering(failOn: "/probe"))
        let failsHealthz = try FakeUpstream(name: "failsHealthz", handler: answering(failOn: "/healthz"))
        defer {
            failsProbe.stop()
            failsHealthz.stop()
        }
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [failsProbe.address, failsHealthz.address])],
                routes:
                    #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app","retries":{"maxRetries":0}}]"#,
                upstreamExtra:
                    #","healthCheck":{"path":"/probe","intervalMs":40,"timeoutMs":300,"unhealthyThreshold":2,"healthyThreshold":2}"#,
                admin: Self.admin))
        try waitUntil("the server failing on /probe is taken out") {
            (try? server(gateway, "app", failsProbe.address)?["healthy"]?.boolValue) == false
        }
        _ = try failsHealthz.waitForRequests(count: 4)
        #expect(try server(gateway, "app", failsHealthz.address)?["healthy"]?.boolValue == true)
        let probes = failsProbe.receivedRequests + failsHealthz.receivedRequests
        #expect(probes.count >= 6)
        #expect(Set(probes.map(\.target)) == ["/probe"], "only the set path is probed")
        #expect(Set(probes.map(\.method)) == ["GET"])

        for index in 0..<4 {
            let response = try TestClient.get(port: gateway.port, path: "/work/\(index)")
            #expect(response.header("X-Fake-Upstream") == "failsHealthz")
        }
    }

    /// `healthCheck.timeoutMs` 300: a server whose probes are answered after 600 ms (within
    /// the default 1000 ms) is taken out; the same server behind a 1500 ms limit stays in.
    @Test func aProbeSlowerThanTheSetTimeoutFails() throws {
        let slowProbes = FakeHandler { request, writer in
            if request.path == "/healthz" {
                try writer.pause(.milliseconds(600))
                try FakeHandler.status(200).respond(request, writer)
            } else {
                try FakeHandler.echo.respond(request, writer)
            }
        }
        let tight = try FakeUpstream(name: "tight", handler: slowProbes)
        let loose = try FakeUpstream(name: "loose", handler: slowProbes)
        defer {
            tight.stop()
            loose.stop()
        }
        func check(timeoutMs: Int) -> String {
            #"{"path":"/healthz","intervalMs":50,"timeoutMs":\#(timeoutMs),"unhealthyThreshold":2,"healthyThreshold":2}"#
        }
        let gateway = try GatewayHarness(
            """
            {"workers":1,"listeners":[{"name":"http","address":"127.0.0.1:0"}],"accessLog":{"path":"off"},
             "admin":\(Self.admin),
             "upstreams":{"tight":{"servers":[{"address":"\(tight.address)"}],"healthCheck":\(check(timeoutMs: 300))},
                          "loose":{"servers":[{"address":"\(loose.address)"}],"healthCheck":\(check(timeoutMs: 1500))}},
             "routes":[{"name":"tight","match":{"pathPrefix":"/tight"},"upstream":"tight"},
                       {"name":"loose","match":{"pathPrefix":"/loose"},"upstream":"loose"}]}
            """)
        try waitUntil("probes answered after 600 ms fail a 300 ms limit", timeout: .seconds(10)) {
            (try? server(gateway, "tight", tight.address)?["healthy"]?.boolValue) == false
        }
        // Four probes sent one after another: at least three answered, each within 1500 ms.
        _ = try loose.waitForRequests(count: 4, timeout: .seconds(10))
        #expect(try server(gateway, "loose", loose.address)?["healthy"]?.boolValue == true)

        let refused = try TestClient.get(port: gateway.port, path: "/tight")
        #expect(refused.status == 503)
        #expect(refused.header("X-Gateway-Error") == "no_healthy_upstream")
        #expect(try TestClient.get(port: gateway.port, path: "/loose").status == 200)
    }

    // MARK: routes

    /// Sends `requests` GETs at once to each of `routes` ("name": backoff JSON, one retry on
    /// a reset), each reset once at the upstream and then answered, and returns the time
    /// between the two arrivals of each request at the upstream: the backoff wait plus a new
    /// connection.
    private func backoffGaps(_ routes: [(String, String)], requests: Int = 12) throws -> [String: [Duration]]
    {
        let arrivals = Arrivals()
        let upstream = try FakeUpstream(handler: arrivals.resetFirstThenEcho)
        defer { upstream.stop() }
        let routeJSON = routes.map { name, backoff in
            #"""
            {"name":"\#(name)","match":{"pathPrefix":"/\#(name)"},"upstream":"app",
             "retries":{"maxRetries":1,"retryOn":["reset"],"budgetPercent":100,"backoff":\#(backoff)}}
            """#
        }
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: "[" + routeJSON.joined(separator: ",") + "]",
                upstreamExtra: #","circuitBreaker":{"failureThreshold":10000}"#))
        var clients: [TestClient] = []
        for (name, _) in routes {
            for index in 0..<requests {
                let client = try gateway.client()
                try client.sendRequest(path: "/\(name)/\(index)")
                clients.append(client)
            }
        }
        for client in clients {
            #expect(try client.readResponse(timeout: .seconds(10)).status == 200)
        }
        var gaps: [String: [Duration]] = [:]
        for (name, _) in routes {
            gaps[name] = (0..<requests).compactMap { arrivals.gap("/\(name)/\($0)") }
            #expect(gaps[name]?.count == requests, "every \(name) request was tried twice")
        }
        return gaps
    }

    /// `retries.backoff`: the wait before retry 1 is in [0, min(maxMs, baseMs × 2)]. Two
    /// routes have a ceiling of 2000 ms, one through `baseMs` (1000 × 2, under `maxMs`
    /// 60000), one through `maxMs` (2000, under `baseMs` 60000 × 2). Falling back to either
    /// default (25, 250) would make the ceiling 50 or 250 ms; ignoring `maxMs` would make
    /// it 120 s, past the route's 15 s deadline (no retry, 502).
    ///
    /// Twelve requests per route: every gap stays under the ceiling plus slack, and the
    /// longest is over 400 ms (for twelve uniform waits all under 400 of 2000 ms:
    /// probability 0.2^12, about 4e-9).
    @Test func backoffWaitsFollowBaseMsAndMaxMs() throws {
        let gaps = try backoffGaps([
            ("base", #"{"baseMs":1000,"maxMs":60000}"#), ("max", #"{"baseMs":60000,"maxMs":2000}"#),
        ])
        for (name, measured) in gaps {
            let longest = measured.max() ?? .zero
            #expect(longest > .milliseconds(400), "\(name): gaps \(measured)")
            #expect(longest < .milliseconds(2500), "\(name): gaps \(measured)")
        }
    }

    /// The wait before a retry is random in [0, ceiling] (docs/configuration.md, "Deadlines
    /// and retries"): twelve requests retried at once wait different times. All within
    /// 100 ms of each other for a ceiling of 1000 ms would have a probability of about
    /// 12 × 0.1^11. (Every exchange used to start its jitter from the same seed, so all
    /// first retries waited the same time.)
    @Test func backoffWaitsAreJitteredPerRequest() throws {
        let gaps = try backoffGaps([("jitter", #"{"baseMs":500,"maxMs":1000}"#)])["jitter"] ?? []
        let spread = (gaps.max() ?? .zero) - (gaps.min() ?? .zero)
        #expect(spread > .milliseconds(100), "gaps \(gaps)")
    }

    /// `retries.retryNonIdempotent`: a POST whose connection is reset after the upstream read
    /// it is retried (and its body sent again) on a route that sets it, not on one that does
    /// not (the default, false).
    @Test func aResetPostIsRetriedOnlyWithRetryNonIdempotent() throws {
        let arrivals = Arrivals()
        let upstream = try FakeUpstream(handler: arrivals.resetFirstThenEcho)
        defer { upstream.stop() }
        let retries = #""retries":{"maxRetries":2,"retryOn":["reset"],"backoff":{"baseMs":1,"maxMs":1}"#
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: """
                    [{"name":"strict","match":{"pathPrefix":"/strict"},"upstream":"app",\(retries)}},
                     {"name":"lenient","match":{"pathPrefix":"/lenient"},"upstream":"app",
                      \(retries),"retryNonIdempotent":true}}]
                    """))
        let lenient = try gateway.client().request(method: "POST", path: "/lenient", body: "payload")
        #expect(lenient.status == 200)
        let strict = try gateway.client().request(method: "POST", path: "/strict", body: "payload")
        #expect(strict.status == 502)
        #expect(strict.header("X-Gateway-Error") == "upstream_reset")

        let received = upstream.receivedRequests
        #expect(received.map(\.target) == ["/lenient", "/lenient", "/strict"])
        #expect(received.map(\.method) == ["POST", "POST", "POST"])
        #expect(received.map(\.bodyString) == ["payload", "payload", "payload"])
    }

    /// `responseHeaders.remove`: the named upstream field (every line of it) does not reach
    /// the client; the others do.
    @Test func responseFieldsTheRouteRemovesAreDropped() throws {
        let upstream = try FakeUpstream(
            handler: .status(
                200, body: "ok",
                headers: [("X-Internal", "secret"), ("X-Keep", "yes"), ("X-Internal", "again")]))
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(
            upstream, route: #""responseHeaders":{"remove":["X-Internal"]}"#)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 200)
        #expect(response.headers("X-Internal").isEmpty)
        #expect(response.header("X-Keep") == "yes")
        #expect(response.bodyString == "ok")
    }

    /// `directResponse.status` and `.contentType`: 418 with `application/json`, not the
    /// defaults 200 and `text/plain`.
    @Test func directResponsesUseTheSetStatusAndContentType() throws {
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", ["127.0.0.1:9"])],
                routes: #"""
                    [{"name":"teapot","match":{"path":"/tea"},
                      "directResponse":{"status":418,"body":"{\"brewing\":false}","contentType":"application/json"}}]
                    """#))
        let response = try TestClient.get(port: gateway.port, path: "/tea")
        #expect(response.status == 418)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.bodyString == #"{"brewing":false}"#)
        #expect(response.header("X-Gateway-Error") == nil)
    }
}

/// When each request target reached the upstream; the first arrival of a target is reset
/// (RST, after the request was read), later ones are answered like `.echo`.
private final class Arrivals: Sendable {
    private let times = Mutex<[String: [ContinuousClock.Instant]]>([:])

    var resetFirstThenEcho: FakeHandler {
        FakeHandler { request, writer in
            let now = ContinuousClock.now
            let seen = self.times.withLock { times in
                times[request.target, default: []].append(now)
                return times[request.target]!.count
            }
            if seen == 1 {
                writer.reset()
            } else {
                try FakeHandler.echo.respond(request, writer)
            }
        }
    }

    /// The time between the first and second arrival of `target`, nil before the second.
    func gap(_ target: String) -> Duration? {
        times.withLock { times in
            guard let seen = times[target], seen.count >= 2 else { return nil }
            return seen[1] - seen[0]
        }
    }
}
