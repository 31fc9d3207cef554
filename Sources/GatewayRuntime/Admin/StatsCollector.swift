import Gateway
import Reactor
import Synchronization

/// Gathers a consistent-enough picture of every worker's counters for /stats and /metrics:
/// each loop copies its own counters on its own thread (no lock on the request path) and
/// the copies are merged here.
enum StatsCollector {
    static func collect(
        from gateway: GatewayServer, completion: @escaping @Sendable (GatewayStatsReport) -> Void
    ) {
        completion(GatewayStatsReport(gateway: gateway))
    }
}

/// Placeholder until the stats catalog lands: process-level numbers only.
struct GatewayStatsReport: Sendable {
    let generation: Int

    init(gateway: GatewayServer) {
        generation = gateway.currentSnapshot.generation
    }

    func json() -> JSONValue {
        .object([("config", .object([("generation", .integer(generation))]))])
    }

    func prometheus() -> [UInt8] {
        Array("portico_config_generation \(generation)\n".utf8)
    }
}
