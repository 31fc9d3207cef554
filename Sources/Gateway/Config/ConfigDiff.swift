/// What a reload changes, as the short lines docs/operations.md shows (`route added: users-api`,
/// `server removed: users 127.0.0.1:9002`), plus the changes that wait for a restart.
public struct ConfigDiff: Sendable, Equatable {
    /// One line per change, in a stable order: listeners, upstreams and servers, routes, settings.
    public var changes: [String] = []
    /// Changes that only a restart applies (`workers`, the admin address), as warnings.
    public var restartRequired: [String] = []

    public init(from old: GatewayConfig, to new: GatewayConfig) {
        diffListeners(old.listeners, new.listeners)
        diffUpstreams(old.upstreams, new.upstreams)
        diffRoutes(old.routes, new.routes)
        if old.limits != new.limits { changes.append("limits changed") }
        if old.timeouts != new.timeouts { changes.append("timeouts changed") }
        if old.accessLog != new.accessLog { changes.append("access log changed: \(new.accessLog.sink)") }
        if old.admin?.token != new.admin?.token { changes.append("admin token changed") }
        if old.cluster != new.cluster {
            changes.append("cluster.redis changed: \(new.cluster.map { "\($0.redis.address)" } ?? "none")")
        }
        if old.workers != new.workers {
            restartRequired.append(
                "workers changed from \(old.workers) to \(new.workers); applies at the next restart")
        }
        if old.admin?.address != new.admin?.address {
            let from = old.admin?.address.text ?? "disabled"
            let to = new.admin?.address.text ?? "disabled"
            restartRequired.append("admin address changed from \(from) to \(to); applies at the next restart")
        }
    }

    private mutating func diffListeners(_ old: [ListenerConfig], _ new: [ListenerConfig]) {
        let oldByAddress = Dictionary(
            old.map { ($0.address.text, $0) }, uniquingKeysWith: { first, _ in first })
        let newByAddress = Dictionary(
            new.map { ($0.address.text, $0) }, uniquingKeysWith: { first, _ in first })
        for listener in new where oldByAddress[listener.address.text] == nil {
            changes.append("listener added: \(listener.name) \(listener.address.text)")
        }
        for listener in old where newByAddress[listener.address.text] == nil {
            changes.append("listener removed: \(listener.name) \(listener.address.text)")
        }
        for listener in new {
            if let previous = oldByAddress[listener.address.text], previous != listener {
                changes.append("listener changed: \(listener.name) \(listener.address.text)")
            }
        }
    }

    private mutating func diffUpstreams(_ old: [UpstreamConfig], _ new: [UpstreamConfig]) {
        let oldByName = Dictionary(old.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newByName = Dictionary(new.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for upstream in new where oldByName[upstream.name] == nil {
            changes.append("upstream added: \(upstream.name)")
        }
        for upstream in old where newByName[upstream.name] == nil {
            changes.append("upstream removed: \(upstream.name)")
        }
        for upstream in new {
            guard let previous = oldByName[upstream.name], previous != upstream else { continue }
            let oldServers = Set(previous.servers.map(\.address.text))
            let newServers = Set(upstream.servers.map(\.address.text))
            for server in upstream.servers where !oldServers.contains(server.address.text) {
                changes.append("server added: \(upstream.name) \(server.address.text)")
            }
            for server in previous.servers where !newServers.contains(server.address.text) {
                changes.append("server removed: \(upstream.name) \(server.address.text)")
            }
            var settings = upstream
            settings.servers = previous.servers
            let weightsChanged = upstream.servers.contains { server in
                previous.servers.contains {
                    $0.address.text == server.address.text && $0.weight != server.weight
                }
            }
            if settings != previous || weightsChanged { changes.append("upstream changed: \(upstream.name)") }
        }
    }

    private mutating func diffRoutes(_ old: [RouteConfig], _ new: [RouteConfig]) {
        let oldByName = Dictionary(old.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newByName = Dictionary(new.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for route in new where oldByName[route.name] == nil { changes.append("route added: \(route.name)") }
        for route in old where newByName[route.name] == nil { changes.append("route removed: \(route.name)") }
        for route in new {
            if let previous = oldByName[route.name], previous != route {
                changes.append("route changed: \(route.name)")
            }
        }
        let sharedOld = old.map(\.name).filter { newByName[$0] != nil }
        let sharedNew = new.map(\.name).filter { oldByName[$0] != nil }
        if sharedOld != sharedNew { changes.append("route order changed") }
    }
}
