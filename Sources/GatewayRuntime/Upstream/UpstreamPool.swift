import Gateway
import Reactor

/// Idle keep-alive connections per upstream server, for one loop (like Envoy's per-worker
/// pools: no locks). Connections are reused newest first, so older ones age out.
final class UpstreamPool {
    /// Idle connections by server stat slot (stable for a server across reloads, and an
    /// array index instead of a hash lookup per request).
    private var idle: [[UpstreamConnection]] = []
    let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// A pooled connection to `server` whose peer has not closed it, or nil.
    func take(for server: RuntimeServer) -> UpstreamConnection? {
        let slot = server.statSlot
        guard slot < idle.count else { return nil }
        while let connection = idle[slot].popLast() {
            // Normally its readiness event already discarded it; this costs no syscall.
            if connection.peerMayHaveClosed {
                connection.close()
                continue
            }
            // The idle timer stays armed: when it fires on an active connection it does nothing.
            connection.idleDue = nil
            connection.phase = .active
            return connection
        }
        return nil
    }

    /// Keeps a connection after a complete exchange, or closes it when the pool is full or the
    /// connection cannot carry another request: its peer closed (the end of the stream came
    /// with the response), or bytes are left over in either direction. True when kept.
    @discardableResult
    func put(_ connection: UpstreamConnection, maxIdle: Int, idleTimeout: TimeSpan) -> Bool {
        let slot = connection.server.statSlot
        if slot >= idle.count { idle.append(contentsOf: repeatElement([], count: slot + 1 - idle.count)) }
        guard idle[slot].count < maxIdle, connection.input.isEmpty, connection.output.isEmpty,
            !connection.peerMayHaveClosed
        else {
            connection.close()
            return false
        }
        connection.exchange = nil
        connection.phase = .idle
        connection.input.releaseIfEmpty()
        connection.output.releaseIfEmpty()
        if idleTimeout > .zero {
            let due = loop.instant + idleTimeout
            connection.idleDue = due
            loop.schedule(connection.timer, noLaterThan: due)
        }
        idle[slot].append(connection)
        return true
    }

    /// Removes a pooled connection that went bad (closed by the server, stray bytes, timed out).
    func discard(_ connection: UpstreamConnection) {
        let slot = connection.server.statSlot
        if slot < idle.count, let index = idle[slot].firstIndex(where: { $0 === connection }) {
            idle[slot].remove(at: index)
        }
        connection.close()
    }

    /// Closes the most idle connection of the server in `slot`, if there is one (a request
    /// on another loop waits for one of the server's connections).
    func closeIdle(slot: Int) {
        guard slot < idle.count, !idle[slot].isEmpty else { return }
        idle[slot].removeFirst().close()
    }

    /// Idle connections to `server` on this loop.
    func idleCount(for server: RuntimeServer) -> Int {
        server.statSlot < idle.count ? idle[server.statSlot].count : 0
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        let all = idle.flatMap { $0 }
        idle.removeAll()
        for connection in all { connection.close() }
    }
}
