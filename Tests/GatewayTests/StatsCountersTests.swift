import Gateway
import Testing

@Suite struct StatsCountersTests {
    private func layout(routes: [String], servers: [ServerStatKey] = []) -> StatLayout {
        var layout = StatLayout()
        layout.include(routes: routes, upstreams: Set(servers.map(\.upstream)).sorted(), servers: servers)
        return layout
    }

    @Test func responsesAreCountedByStatusClass() {
        var counts = ResponseClassCounts()
        for status in [100, 200, 204, 301, 404, 429, 500, 503, 599, 99, 600] {
            counts.record(status: status)
        }
        #expect(StatusClass.allCases.map { counts[$0] } == [1, 2, 1, 2, 3])
        #expect(counts.total == 9)
        #expect(StatusClass.allCases.map(\.label) == ["1xx", "2xx", "3xx", "4xx", "5xx"])
    }

    @Test func workersCountingTheSameLayoutMergeSlotBySlot() {
        let shared = layout(
            routes: ["users", "orders"], servers: [ServerStatKey(upstream: "u", server: "a:1")])
        let now = Instant(nanoseconds: 5_000_000_000)
        var first = WorkerStats(layout: shared)
        var second = WorkerStats(layout: shared)
        first.routes[0].requests += 3
        first.routes[0].recordResponse(status: 200)
        first.routes[0].recordLatency(.milliseconds(2), at: now)
        second.routes[0].requests += 2
        second.routes[1].rateLimited += 1
        second.routes[0].recordLatency(.milliseconds(4), at: now)
        first.servers[0].requests += 4
        second.servers[0].failures += 1
        first.upstreams[0].requests += 4
        first.process.requestsTotal += 5
        second.process.connectionsActive += 2

        var total = WorkerStats()
        total.merge(first)
        total.merge(second)
        #expect(total.routes["users"]?.requests == 5)
        #expect(total.routes["users"]?.responses[.successful] == 1)
        #expect(total.routes["users"]?.latency.count == 2)
        #expect(total.routes["users"]?.recentLatency.snapshot(at: now).max == 4.0)
        #expect(total.routes["orders"]?.rateLimited == 1)
        let server = total.servers[ServerStatKey(upstream: "u", server: "a:1")]
        #expect(server?.requests == 4)
        #expect(server?.failures == 1)
        #expect(total.upstreams["u"]?.requests == 4)
        #expect(total.process.requestsTotal == 5)
        #expect(total.process.connectionsActive == 2)
    }

    @Test func countersOfARouteThatSurvivesAReloadKeepTheirSlot() {
        var current = layout(routes: ["a", "b"])
        var worker = WorkerStats(layout: current)
        worker.routes[1].requests += 7

        current.include(routes: ["c", "b"], upstreams: [], servers: [])
        worker.adopt(current)
        #expect(current.routes.slot(of: "b") == 1)
        #expect(current.routes.slot(of: "c") == 2)
        #expect(worker.routes.keys == ["a", "b", "c"])
        #expect(worker.routes["b"]?.requests == 7)

        // A request still running under the first generation counts into its old slot.
        worker.routes[0].requests += 1
        #expect(worker.routes["a"]?.requests == 1)
        #expect(worker.routes["c"]?.requests == 0)
    }

    @Test func workersOnDifferentGenerationsMergeByName() {
        var old = layout(routes: ["a", "b"])
        var behind = WorkerStats(layout: old)
        behind.routes[1].requests += 1
        old.include(routes: ["c"], upstreams: [], servers: [])
        var ahead = WorkerStats(layout: old)
        ahead.routes[2].requests += 2
        ahead.routes[1].requests += 3

        var total = WorkerStats()
        total.merge(ahead)
        total.merge(behind)
        #expect(total.routes.keys == ["a", "b", "c"])
        #expect(total.routes.values.map(\.requests) == [0, 4, 2])
    }

    @Test func statKeysAreAppendOnlyAndDropRepeats() {
        var keys = StatKeys(["x", "y", "x"])
        #expect(keys.keys == ["x", "y"])
        #expect(keys.insert("y") == 1)
        #expect(keys.insert("z") == 2)
        #expect(keys.slot(of: "missing") == nil)
        #expect(keys.count == 3)
    }
}
