import Gateway
import Reactor
import Synchronization

/// Gathers every worker's counters for /stats and /metrics: each loop copies its own
/// counters on its own thread (counting never takes a lock) and the copies are merged here.
enum StatsCollector {
    private final class Gathering: Sendable {
        let expected: Int
        let copies = Mutex<[(WorkerStats, [Int: Int])]>([])

        init(expected: Int) {
            self.expected = expected
        }

        /// Adds one worker's copy; true when it was the last one.
        func add(_ copy: (WorkerStats, [Int: Int])) -> Bool {
            copies.withLock {
                $0.append(copy)
                return $0.count == expected
            }
        }
    }

    /// Calls `completion` (on the last worker's thread) with the merged report.
    static func collect(from gateway: GatewayServer, completion: @escaping @Sendable (StatsReport) -> Void) {
        let workers = gateway.workerLoops
        guard !workers.isEmpty else {
            completion(report(gateway, copies: []))
            return
        }
        let gathering = Gathering(expected: workers.count)
        for worker in workers {
            worker.loop.execute {
                let copy = worker.value.statsCopy()
                if gathering.add(copy) {
                    completion(report(gateway, copies: gathering.copies.withLock { $0 }))
                }
            }
        }
    }

    private static func report(_ gateway: GatewayServer, copies: [(WorkerStats, [Int: Int])]) -> StatsReport {
        let snapshot = gateway.currentSnapshot
        var merged = WorkerStats(layout: snapshot.statLayout)
        var idle: [Int: Int] = [:]
        for (stats, idleCounts) in copies {
            merged.merge(stats)
            idle.merge(idleCounts, uniquingKeysWith: +)
        }
        let now = Instant(nanoseconds: monotonicNanoseconds())
        let shared = gateway.shared
        var report = StatsReport(version: GatewayServer.version)
        report.uptimeSeconds = gateway.uptimeSeconds
        report.workers = gateway.workerCount
        let status = gateway.reloadStatus
        report.config.generation = snapshot.generation
        report.config.loadedAt = status.loadedAt
        report.config.sha256 = snapshot.config.sourceSHA256
        report.config.reloadsSucceeded = UInt64(status.succeeded)
        report.config.reloadsFailed = UInt64(status.failed)
        report.config.lastError = status.lastError
        report.process = merged.process
        report.process.connectionsActive = shared.activeConnections.load(ordering: .relaxed)
        report.process.connectionsAccepted = UInt64(shared.acceptedConnections.load(ordering: .relaxed))
        report.process.connectionsRejected = UInt64(shared.rejectedConnections.load(ordering: .relaxed))
        report.accessLogWritten = UInt64(shared.accessLog.written.load(ordering: .relaxed))
        report.accessLogDropped = UInt64(shared.accessLog.dropped.load(ordering: .relaxed))
        report.cluster = snapshot.cluster.map { backend in
            let counters = backend.counters
            var cluster = StatsReport.Cluster()
            cluster.fallbackActive = counters.breaker.isOpen
            cluster.redisOperations = counters.operations
            cluster.redisErrors = zip(ClusterBackendError.allCases, counters.errors).map { ($0.rawValue, $1) }
            cluster.redisLatency = counters.latency
            cluster.routes = snapshot.routes.compactMap { $0.rateLimit?.cluster?.report }
            return cluster
        }
        report.routes = snapshot.routes.map { route in
            StatsReport.Route(name: route.name, counters: merged.routes[route.statSlot], at: now)
        }
        report.upstreams = snapshot.upstreams.map { upstream in
            let servers = upstream.servers.map { server in
                // Open connections minus the idle ones: the connections carrying a request.
                let idleCount = idle[server.statSlot] ?? 0
                let open = server.state.openConnections.load(ordering: .relaxed)
                return StatsReport.Server(
                    address: server.key, counters: merged.servers[server.statSlot],
                    healthy: upstream.healthCheck == nil || server.state.health.isHealthy,
                    circuit: server.state.breaker.circuit(at: now, upstream.circuitBreaker),
                    activeConnections: max(0, open - idleCount), idleConnections: idleCount)
            }
            return StatsReport.Upstream(
                name: upstream.name, counters: merged.upstreams[upstream.statSlot],
                pending: upstream.state.pending.load(ordering: .relaxed),
                servers: servers)
        }
        return report
    }
}
