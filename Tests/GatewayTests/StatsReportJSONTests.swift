import Gateway
import Testing

@Suite struct StatsReportJSONTests {
    private func render(_ report: StatsReport) -> String {
        String(decoding: report.renderJSON(), as: UTF8.self)
    }

    @Test func rendersTheSpecShapeExactly() {
        let expected =
            #"{"version":"0.1.0","uptimeSeconds":12.5,"workers":2,"#
            + #""config":{"generation":1,"loadedAt":"2026-11-25T17:00:00Z","sha256":"","#
            + #""reloads":{"succeeded":0,"failed":0},"lastError":null},"#
            + #""connections":{"active":3,"accepted":120,"rejected":0},"#
            + #""accessLog":{"written":998,"dropped":0},"#
            + #""requests":{"total":1000,"active":2},"#
            + #""routes":{"users-api":{"requests":100,"#
            + #""responses":{"1xx":0,"2xx":95,"3xx":0,"4xx":2,"5xx":3},"#
            + #""rateLimited":2,"retries":4,"timeouts":1,"cancelled":0,"#
            + #""latencyMs":{"p50":1.2,"p90":2.0,"p99":5.056,"max":12.0}}},"#
            + #""upstreams":{"users":{"requests":100,"failures":3,"pending":0,"#
            + #""servers":{"127.0.0.1:9001":{"healthy":true,"circuit":"closed","#
            + #""activeRequests":0,"activeConnections":1,"idleConnections":4,"#
            + #""requests":50,"failures":1,"staleReuses":0}}}},"cluster":null}"#
        #expect(render(StatsReportFixtures.specExample()) == expected)
    }

    @Test func anEmptyReportStillHasEveryKey() {
        let expected =
            #"{"version":"x","uptimeSeconds":0.0,"workers":1,"#
            + #""config":{"generation":0,"loadedAt":"","sha256":"","reloads":{"succeeded":0,"failed":0},"#
            + #""lastError":null},"connections":{"active":0,"accepted":0,"rejected":0},"#
            + #""accessLog":{"written":0,"dropped":0},"requests":{"total":0,"active":0},"#
            + #""routes":{},"upstreams":{},"cluster":null}"#
        #expect(render(StatsReport(version: "x")) == expected)
    }

    @Test func aRouteWithoutTrafficReportsZeroLatencies() {
        var report = StatsReport(version: "x")
        report.routes = [StatsReport.Route(name: "idle")]
        #expect(
            render(report).contains(
                #""idle":{"requests":0,"responses":{"1xx":0,"2xx":0,"3xx":0,"4xx":0,"5xx":0},"#
                    + #""rateLimited":0,"retries":0,"timeouts":0,"cancelled":0,"#
                    + #""latencyMs":{"p50":0.0,"p90":0.0,"p99":0.0,"max":0.0}}"#
            ))
    }

    @Test func stringsAreEscapedAndTheLastErrorShown() {
        var report = StatsReport(version: "1")
        report.config.lastError = "routes[0].name: \"a\\b\"\nis bad\u{1}"
        report.config.reloadsFailed = 1
        report.upstreams = [StatsReport.Upstream(name: "u")]
        report.upstreams[0].servers = [StatsReport.Server(address: "h:1")]
        report.upstreams[0].servers[0].circuit = .halfOpen
        report.upstreams[0].servers[0].healthy = false
        let json = render(report)
        #expect(json.contains(#""reloads":{"succeeded":0,"failed":1},"#))
        #expect(json.contains(#""lastError":"routes[0].name: \"a\\b\"\nis bad\u0001""#))
        #expect(json.contains(#""h:1":{"healthy":false,"circuit":"half_open","#))
    }

    @Test(arguments: [
        (12.5, "12.5"), (0, "0.0"), (3, "3.0"), (1.23449, "1.234"), (0.0005, "0.001"), (0.0004, "0.0"),
        (1_234_567.8916, "1234567.892"), (-2.5, "-2.5"),
    ])
    func numbersAreRoundedToThreeDecimals(value: Double, spelled: String) {
        var report = StatsReport(version: "x")
        report.uptimeSeconds = value
        #expect(render(report).contains(#""uptimeSeconds":\#(spelled),"#))
    }
}

/// The report of the `/stats` example in docs/operations.md, built through the counters the workers keep.
enum StatsReportFixtures {
    static let now = Instant(nanoseconds: 90_000_000_000)

    static func specExample() -> StatsReport {
        var report = StatsReport(version: "0.1.0")
        report.uptimeSeconds = 12.5
        report.workers = 2
        report.config.generation = 1
        report.config.loadedAt = "2026-11-25T17:00:00Z"
        report.process.connectionsActive = 3
        report.process.connectionsAccepted = 120
        report.process.requestsTotal = 1_000
        report.process.requestsActive = 2
        report.accessLogWritten = 998

        var route = RouteCounters()
        route.requests = 100
        for (status, times) in [(200, 95), (404, 2), (502, 3)] {
            for _ in 0..<times {
                route.recordResponse(status: status)
            }
        }
        route.rateLimited = 2
        route.retries = 4
        route.timeouts = 1
        // 1.2 ms, 2.0 ms and 5.056 ms are bucket midpoints, so the percentiles come out exact.
        for (nanoseconds, times) in [(1_200_000, 50), (2_000_000, 40), (5_056_000, 9), (12_000_000, 1)] {
            for _ in 0..<times {
                route.recordLatency(.nanoseconds(Int64(nanoseconds)), at: now)
            }
        }
        report.routes = [StatsReport.Route(name: "users-api", counters: route, at: now)]

        var server = ServerCounters()
        server.requests = 50
        server.failures = 1
        var upstream = UpstreamCounters()
        upstream.requests = 100
        upstream.failures = 3
        report.upstreams = [
            StatsReport.Upstream(
                name: "users", counters: upstream, pending: 0,
                servers: [
                    StatsReport.Server(
                        address: "127.0.0.1:9001", counters: server, healthy: true, circuit: .closed,
                        activeConnections: 1, idleConnections: 4)
                ])
        ]
        return report
    }
}
