import Reactor

/// Idle keep-alive connections per upstream server, for one loop (like Envoy's per-worker
/// pools: no locks). Connections are reused newest first, so older ones age out.
final class UpstreamPool {
    private var idle: [ObjectIdentifier: [UpstreamConnection]] = [:]
    unowned let worker: Worker

    init(worker: Worker) {
        self.worker = worker
    }

    /// A pooled connection to `server`, or nil.
    func take(for server: RuntimeServer) -> UpstreamConnection? {
        let key = ObjectIdentifier(server.state)
        guard var list = idle[key], let connection = list.popLast() else { return nil }
        idle[key] = list
        worker.loop.cancel(connection.timer)
        connection.phase = .active
        return connection
    }

    /// Keeps a connection after a complete exchange, or closes it when the pool is full.
    func put(_ connection: UpstreamConnection, maxIdle: Int, idleTimeoutMs: Int) {
        let key = ObjectIdentifier(connection.server.state)
        var list = idle[key] ?? []
        guard list.count < maxIdle, connection.input.isEmpty else {
            connection.close()
            return
        }
        connection.exchange = nil
        connection.phase = .idle
        connection.input.releaseIfEmpty()
        connection.output.releaseIfEmpty()
        if idleTimeoutMs > 0 { worker.loop.schedule(connection.timer, inMilliseconds: idleTimeoutMs) }
        list.append(connection)
        idle[key] = list
    }

    /// Removes a pooled connection that went bad (closed by the server, stray bytes, timed out).
    func discard(_ connection: UpstreamConnection) {
        let key = ObjectIdentifier(connection.server.state)
        if var list = idle[key], let index = list.firstIndex(where: { $0 === connection }) {
            list.remove(at: index)
            idle[key] = list.isEmpty ? nil : list
        }
        connection.close()
    }

    /// Idle connections to `server` on this loop.
    func idleCount(for server: RuntimeServer) -> Int {
        idle[ObjectIdentifier(server.state)]?.count ?? 0
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
        for connection in all { connection.close() }
    }
}
