/// Identifies a server's counters: the upstream's name and the server's `host:port` as configured.
public struct ServerStatKey: Hashable, Sendable {
    /// The upstream's name.
    public var upstream: String
    /// The server's address as written in the configuration.
    public var server: String

    /// Creates the key of `server` in `upstream`.
    public init(upstream: String, server: String) {
        self.upstream = upstream
        self.server = server
    }
}

/// The slots of every counted route, upstream and server, shared by all workers.
///
/// Built on the main thread and extended by each reload with the new configuration's names;
/// since it only grows, counters of a name that survives a reload keep their slot, and requests
/// still running under the old generation count into the right slot. Every worker adopts the
/// same layout (``WorkerStats/adopt(_:)``), so slot `i` means the same thing in every worker.
public struct StatLayout: Sendable {
    /// Route names.
    public var routes = StatKeys<String>()
    /// Upstream names.
    public var upstreams = StatKeys<String>()
    /// Servers, by upstream and address.
    public var servers = StatKeys<ServerStatKey>()

    /// Creates an empty layout.
    public init() {}

    /// Appends whichever of these names are new; existing ones keep their slots.
    public mutating func include(
        routes routeNames: some Sequence<String>,
        upstreams upstreamNames: some Sequence<String>,
        servers serverKeys: some Sequence<ServerStatKey>
    ) {
        for name in routeNames {
            routes.insert(name)
        }
        for name in upstreamNames {
            upstreams.insert(name)
        }
        for key in serverKeys {
            servers.insert(key)
        }
    }
}
