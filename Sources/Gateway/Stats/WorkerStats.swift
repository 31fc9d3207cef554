/// Everything one worker counts. Each worker owns one and mutates it without locks; the admin
/// endpoint asks every worker for a copy and adds the copies up with ``merge(_:)``.
public struct WorkerStats: Sendable {
    /// Connections and requests regardless of route.
    public var process = ProcessCounters()
    /// Per-route counters, by ``StatLayout/routes`` slot.
    public var routes = StatTable<String, RouteCounters>()
    /// Per-upstream counters, by ``StatLayout/upstreams`` slot.
    public var upstreams = StatTable<String, UpstreamCounters>()
    /// Per-server counters, by ``StatLayout/servers`` slot.
    public var servers = StatTable<ServerStatKey, ServerCounters>()

    /// Creates zeroed counters with a slot for everything in `layout`.
    public init(layout: StatLayout = StatLayout()) {
        adopt(layout)
    }

    /// Adds zeroed slots for whatever `layout` names that this worker has no slot for yet.
    ///
    /// Call it with each new layout before counting under the generation that brought it;
    /// existing slots, and their counts, are kept.
    public mutating func adopt(_ layout: StatLayout) {
        routes.extend(to: layout.routes, blank: RouteCounters())
        upstreams.extend(to: layout.upstreams, blank: UpstreamCounters())
        servers.extend(to: layout.servers, blank: ServerCounters())
    }

    /// Adds another worker's counts, matching routes, upstreams and servers by name.
    public mutating func merge(_ other: WorkerStats) {
        process.merge(other.process)
        routes.merge(other.routes) { $0.merge($1) }
        upstreams.merge(other.upstreams) { $0.merge($1) }
        servers.merge(other.servers) { $0.merge($1) }
    }
}
