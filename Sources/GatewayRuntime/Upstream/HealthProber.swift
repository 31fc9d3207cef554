import Dispatch
import Gateway
import Reactor
import Synchronization

/// Runs the active health checks of every upstream that configures them, from one place
/// (not once per worker): its own small loop and thread, one `HealthProbe` per server.
/// Results go to each server's shared `ServerHealth`.
final class HealthProber: Sendable {
    private let loop: EventLoop
    private let thread = Mutex<LoopThread?>(nil)
    /// The probes by "upstream server" key; only touched on `loop`.
    private let probes: LoopBound<ProbeTable>

    /// The probes, owned by the prober's loop.
    private final class ProbeTable {
        var byKey: [String: HealthProbe] = [:]
    }

    init(log: ProcessLog) throws(SystemError) {
        let loop = try EventLoop()
        self.loop = loop
        probes = LoopBound(ProbeTable(), loop: loop)
        self.log = log
        thread.withLock { $0 = LoopThread.start { loop.run() } }
    }

    private let log: ProcessLog

    /// Probes the servers `snapshot` gives health checks: new ones start at once, ones that
    /// stayed keep their rhythm (and their health, which lives in the server's state), the
    /// rest stop. Returns once that is done, so a reload's answer holds for the checks too.
    func apply(_ snapshot: RuntimeSnapshot) {
        let probes = self.probes
        let log = self.log
        let loop = self.loop
        let applied = DispatchSemaphore(value: 0)
        defer { applied.wait() }
        loop.execute {
            defer { applied.signal() }
            let table = probes.value
            var wanted: Set<String> = []
            for upstream in snapshot.upstreams {
                guard let config = upstream.healthCheck else { continue }
                for server in upstream.servers {
                    let key = "\(upstream.name) \(server.key)"
                    wanted.insert(key)
                    if let probe = table.byKey[key] {
                        probe.update(server: server, config: config)
                    } else {
                        // Servers start healthy, also when a reload gives a known server
                        // a check again: what an earlier check found may be long stale.
                        server.state.health.reset()
                        let probe = HealthProbe(
                            upstreamName: upstream.name, server: server, config: config, loop: loop, log: log)
                        table.byKey[key] = probe
                        probe.start()
                    }
                }
            }
            for (key, probe) in table.byKey where !wanted.contains(key) {
                probe.stop()
                table.byKey[key] = nil
            }
        }
    }

    /// Stops every probe and the loop, and waits for its thread.
    func stop() {
        let probes = self.probes
        let loop = self.loop
        loop.execute {
            for probe in probes.value.byKey.values { probe.stop() }
            probes.value.byKey.removeAll()
            loop.stop()
        }
        let running = thread.withLock { current -> LoopThread? in
            let taken = current
            current = nil
            return taken
        }
        running?.join()
    }
}
