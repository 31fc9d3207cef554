import Dispatch
import Gateway
import Reactor
import Synchronization

/// The running gateway: worker loops with their listeners, the shared state, and the
/// process-level operations (start, reload, drain, stop), called from the main thread or
/// the admin endpoint.
package final class GatewayServer: Sendable {
    /// The product version, reported by `--version` and `/stats`.
    package static let version = "0.1.0"
    private struct State {
        var workers: [LoopBound<Worker>] = []
        var threads: [LoopThread] = []
        var snapshot: RuntimeSnapshot
        /// Bound package listeners by their configured address text, with the real port.
        var listeners: [String: BoundListener] = [:]
        var reloadsSucceeded = 0
        var reloadsFailed = 0
        var lastError: String?
        var loadedAt: String
    }

    private struct BoundListener {
        var listener: RuntimeListener
        var port: UInt16

        /// Whether a socket bound to `address` would clash with this one: the same family and
        /// port, and the same IP or a wildcard on either side.
        func overlaps(_ address: SocketAddress) -> Bool {
            guard address.port == port else { return false }
            switch (listener.address.storage, address.storage) {
            case (.v4(let a, _), .v4(let b, _)):
                return a == b || a == 0 || b == 0
            case (.v6(let a, _), .v6(let b, _)):
                return a == b || a.bytes.allSatisfy { $0 == 0 } || b.bytes.allSatisfy { $0 == 0 }
            default:
                return false
            }
        }
    }

    package let log: ProcessLog
    let shared: GatewayShared
    private let state: Mutex<State>
    /// Serializes reloads (SIGHUP and POST /reload may race).
    private let reloadLock = Mutex<Void>(())
    private let configPath: String?
    package let workerCount: Int
    private let admin = Mutex<AdminServer?>(nil)
    private let prober = Mutex<HealthProber?>(nil)
    private let startedAt = monotonicNanoseconds()

    /// Prepares a gateway for `config`; nothing is bound until `start()`. `configPath` is
    /// the file reloads read again (nil: reloads are refused).
    package convenience init(config: GatewayConfig, configPath: String? = nil, log: ProcessLog)
        throws(StartError)
    {
        try self.init(config: config, configPath: configPath, log: log, accessLogQueueBytes: 4 << 20)
    }

    /// `accessLogQueueBytes` bounds the lines waiting for a slow sink; beyond it lines are
    /// dropped and counted (tests make it small).
    init(config: GatewayConfig, configPath: String?, log: ProcessLog, accessLogQueueBytes: Int)
        throws(StartError)
    {
        self.log = log
        self.configPath = configPath
        guard
            let accessLog = AccessLogWriter(sink: config.accessLog.sink, maxQueuedBytes: accessLogQueueBytes)
        else {
            throw StartError(message: "accessLog.path: cannot open \(config.accessLog.sink)")
        }
        workerCount = config.workers > 0 ? config.workers : availableCPUCount()
        shared = GatewayShared(
            log: log, accessLog: accessLog, maxConnections: config.limits.maxConnections, workers: workerCount
        )
        let snapshot = SnapshotBuilder.build(
            config, generation: 1, previous: nil, onRateLimitOverflow: Self.rateLimitOverflowWarning(log),
            onClusterFallback: Self.clusterFallbackLog(log))
        state = Mutex(State(snapshot: snapshot, loadedAt: WallClock.iso8601Now()))
    }

    /// Why the gateway could not start, as the line the CLI prints.
    package struct StartError: Error, Sendable, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    // MARK: Start

    /// Binds every listener on every worker (SO_REUSEPORT), starts the loops, then the
    /// admin endpoint if configured. Fails with `listen ADDR: address already in use` if any
    /// other socket listens on a listener's address.
    package func start() throws(StartError) {
        let snapshot = state.withLock { $0.snapshot }
        var sockets: [[(Int32, RuntimeListener)]] = Array(repeating: [], count: workerCount)
        var bound: [String: BoundListener] = [:]
        // Every address is checked before any is bound: listeners of one configuration may
        // share a port (0.0.0.0:8080 and 127.0.0.1:8080) and must not fail each other's check.
        for listener in snapshot.listeners {
            do {
                try checkNoOtherListener(listener)
            } catch {
                throw StartError(message: error.message)
            }
        }
        for listener in snapshot.listeners {
            let opened: (fds: [Int32], port: UInt16)
            do {
                opened = try bindEverywhere(listener)
            } catch {
                for list in sockets { for (fd, _) in list { closeDescriptor(fd) } }
                throw StartError(message: error.message)
            }
            for (index, fd) in opened.fds.enumerated() { sockets[index].append((fd, listener)) }
            bound[listener.key] = BoundListener(listener: listener, port: opened.port)
        }

        var workers: [Worker] = []
        for index in 0..<workerCount {
            let loop: EventLoop
            do {
                loop = try EventLoop()
            } catch {
                throw StartError(message: "cannot create an event loop: \(error)")
            }
            let worker = Worker(index: index, loop: loop, shared: shared, snapshot: snapshot)
            for (fd, listener) in sockets[index] {
                let handler = ListenerHandler(fd: fd, listener: listener, worker: worker)
                do {
                    try handler.start()
                } catch {
                    throw StartError(message: "listen \(listener.key): \(error.lowercasedReason)")
                }
                worker.listeners.append(handler)
            }
            workers.append(worker)
        }
        let loopBound = workers.map { LoopBound($0, loop: $0.loop) }
        shared.workers.withLock { $0 = loopBound }
        let threads = loopBound.map { worker in LoopThread.start { worker.loop.run() } }
        state.withLock {
            $0.workers = loopBound
            $0.threads = threads
            $0.listeners = bound
        }
        do throws(SystemError) {
            let healthChecks = try HealthProber(log: log)
            healthChecks.apply(snapshot)
            prober.withLock { $0 = healthChecks }
        } catch {
            stopLoops()
            throw StartError(message: "cannot create the health-check loop: \(error)")
        }
        if let adminConfig = snapshot.config.admin {
            do throws(SystemError) {
                let server = try AdminServer(address: SocketAddress(adminConfig.address), gateway: self)
                admin.withLock { $0 = server }
            } catch {
                stopLoops()
                throw StartError(message: "listen \(adminConfig.address.text): \(error.lowercasedReason)")
            }
        }
        log.info(
            "gateway started",
            [
                "generation": "\(snapshot.generation)", "workers": "\(workerCount)",
                "routes": "\(snapshot.routes.count)",
            ])
    }

    /// The warning when a route's limiter tracks as many keys as it may (its store reports
    /// it at most once a minute).
    private static func rateLimitOverflowWarning(_ log: ProcessLog) -> @Sendable (String) -> Void {
        { route in
            log.warn(
                "rate limit tracks \(LocalRateLimitStore.defaultMaxKeys) keys; new keys share one bucket",
                ["route": route])
        }
    }

    /// Cluster rate limits going to their fallback (Redis failing) and back.
    private static func clusterFallbackLog(_ log: ProcessLog) -> @Sendable (ClusterBackend.Transition) -> Void
    {
        { transition in
            switch transition {
            case .fallback(let redis, let cause):
                log.warn(
                    "Redis is failing; cluster rate limits apply their onBackendError",
                    ["redis": redis, "error": cause.rawValue])
            case .recovered(let redis):
                log.info("Redis answers again; cluster rate limits are shared again", ["redis": redis])
            }
        }
    }

    private struct BindError: Error {
        let message: String
    }

    /// Refuses `listener`'s address if any socket listens there already (docs/operations.md).
    ///
    /// The workers' sockets use SO_REUSEPORT, which would let a second Portico (or any program
    /// of the same user setting it) bind the address too and take part of the connections;
    /// like a plain bind, the gateway refuses the address instead.
    private func checkNoOtherListener(_ listener: RuntimeListener) throws(BindError) {
        do {
            try Socket.checkNoListener(on: listener.address)
        } catch {
            throw BindError(message: "listen \(listener.key): \(error.lowercasedReason)")
        }
    }

    /// One listening socket per worker for `listener`; port 0 becomes one ephemeral port for all.
    private func bindEverywhere(_ listener: RuntimeListener) throws(BindError) -> (fds: [Int32], port: UInt16)
    {
        var address = listener.address
        var fds: [Int32] = []
        for _ in 0..<workerCount {
            do {
                let fd = try Socket.listen(on: address)
                fds.append(fd)
                if address.port == 0, let local = try? Socket.localAddress(fd) { address = local }
            } catch {
                for fd in fds { closeDescriptor(fd) }
                throw BindError(message: "listen \(listener.key): \(error.lowercasedReason)")
            }
        }
        return (fds, address.port)
    }

    // MARK: Queries

    /// The port each listener (by name) is bound to.
    package func port(ofListener name: String) -> UInt16? {
        state.withLock { state in state.listeners.values.first { $0.listener.name == name }?.port }
    }

    /// The admin endpoint's port, if it runs.
    package var adminPort: UInt16? { admin.withLock { $0?.address.port } }

    var currentSnapshot: RuntimeSnapshot { state.withLock { $0.snapshot } }

    var isDraining: Bool { shared.isDraining.load(ordering: .relaxed) }

    var uptimeSeconds: Double { Double(monotonicNanoseconds() - startedAt) / 1e9 }

    /// Reload bookkeeping for /stats: (succeeded, failed, lastError, loadedAt).
    var reloadStatus: (succeeded: Int, failed: Int, lastError: String?, loadedAt: String) {
        state.withLock { ($0.reloadsSucceeded, $0.reloadsFailed, $0.lastError, $0.loadedAt) }
    }

    var workerLoops: [LoopBound<Worker>] { state.withLock { $0.workers } }

    // MARK: Reload

    /// The result of a reload: the new generation and what changed, or every error.
    package struct ReloadOutcome: Sendable {
        package var generation: Int?
        package var changes: [String]
        package var errors: [String]
    }

    /// Reads and validates the configuration file again and, if it is valid, publishes it to
    /// every loop as a new generation (docs/operations.md, "Reloading the configuration"). Requests in flight keep the
    /// generation they started with. Blocking (file I/O, name resolution): never call it
    /// on a worker loop.
    package func reload() -> ReloadOutcome {
        reloadLock.withLock { _ in performReload() }
    }

    private func performReload() -> ReloadOutcome {
        guard let configPath else {
            return recordFailure(["reload: no configuration file to read"])
        }
        let loaded: GatewayConfig
        switch ConfigFile.load(path: configPath) {
        case .success(let config): loaded = config
        case .failure(let problems): return recordFailure(problems.errors.map(\.description))
        }
        let current = state.withLock { $0.snapshot }
        let diff = ConfigDiff(from: current.config, to: loaded)
        var config = loaded
        // Restart-only settings keep their running values (docs/operations.md, "Reloading the configuration").
        config.workers = current.config.workers
        if let running = current.config.admin {
            if config.admin == nil { config.admin = running } else { config.admin?.address = running.address }
        } else {
            config.admin = nil
        }

        let snapshot = SnapshotBuilder.build(
            config, generation: current.generation + 1, previous: current,
            onRateLimitOverflow: Self.rateLimitOverflowWarning(log),
            onClusterFallback: Self.clusterFallbackLog(log))
        let oldListeners = state.withLock { $0.listeners }
        let newKeys = Set(snapshot.listeners.map(\.key))
        let added = snapshot.listeners.filter { oldListeners[$0.key] == nil }
        for listener in added {
            // The gateway's own sockets would fail the check: a listener moving from
            // 0.0.0.0:8080 to 127.0.0.1:8080 binds beside the old socket, which closes after.
            if oldListeners.values.contains(where: { $0.overlaps(listener.address) }) { continue }
            do {
                try checkNoOtherListener(listener)
            } catch {
                return recordFailure([error.message])
            }
        }
        var opened: [(RuntimeListener, [Int32], UInt16)] = []
        for listener in added {
            do {
                let (fds, port) = try bindEverywhere(listener)
                opened.append((listener, fds, port))
            } catch {
                for (_, fds, _) in opened { for fd in fds { closeDescriptor(fd) } }
                return recordFailure([error.message])
            }
        }
        let removed = Set(oldListeners.keys.filter { !newKeys.contains($0) })

        shared.maxConnections.store(config.limits.maxConnections, ordering: .relaxed)
        if !shared.accessLog.reopen(sink: config.accessLog.sink) {
            log.error("cannot open the access log; lines are dropped", ["path": "\(config.accessLog.sink)"])
        }
        let workers = state.withLock { state -> [LoopBound<Worker>] in
            state.snapshot = snapshot
            for key in removed { state.listeners[key] = nil }
            for (listener, _, port) in opened {
                state.listeners[listener.key] = BoundListener(listener: listener, port: port)
            }
            for listener in snapshot.listeners {
                state.listeners[listener.key]?.listener = listener
            }
            state.reloadsSucceeded += 1
            state.loadedAt = WallClock.iso8601Now()
            return state.workers
        }
        // Returns only once every loop serves the new generation, so a caller that reloads
        // and then sends a request sees the new configuration.
        let applied = DispatchSemaphore(value: 0)
        for (index, worker) in workers.enumerated() {
            let added = opened.map { ($0.0, $0.1[index]) }
            let bound = LoopBoundListeners(added)
            worker.loop.execute {
                worker.value.apply(snapshot, addedListeners: bound.listeners, removedListeners: removed)
                applied.signal()
            }
        }
        for _ in workers { applied.wait() }
        prober.withLock { $0?.apply(snapshot) }
        for warning in diff.restartRequired { log.warn(warning) }
        log.info(
            "config reloaded", ["generation": "\(snapshot.generation)", "changes": "\(diff.changes.count)"])
        for change in diff.changes { log.info(change) }
        return ReloadOutcome(generation: snapshot.generation, changes: diff.changes, errors: [])
    }

    private func recordFailure(_ errors: [String]) -> ReloadOutcome {
        state.withLock {
            $0.reloadsFailed += 1
            $0.lastError = errors.joined(separator: "; ")
        }
        log.error("reload failed; keeping the running configuration", ["errors": "\(errors.count)"])
        for error in errors { log.error(error) }
        return ReloadOutcome(generation: nil, changes: [], errors: errors)
    }

    // MARK: Stop

    /// Graceful shutdown (docs/operations.md, "Shutting down"): package listeners close at once, the admin
    /// endpoint stays up and reports the drain, requests in flight and requests already
    /// received finish, idle connections close; returns when all connections are done or
    /// after the running configuration's `timeouts.drainMs` (the last reload's, not the
    /// start-up file's), then stops everything.
    package func shutdown() {
        let drainMilliseconds = Int(currentSnapshot.config.timeouts.drain.milliseconds)
        log.info("draining", ["drainMs": "\(drainMilliseconds)"])
        shared.isDraining.store(true, ordering: .relaxed)
        let workers = state.withLock { $0.workers }
        for worker in workers {
            worker.loop.execute { worker.value.beginDrain() }
        }
        let deadline = DispatchTime.now() + .milliseconds(max(0, drainMilliseconds))
        if shared.drained.wait(timeout: deadline) == .timedOut {
            log.warn(
                "drain time is up; closing the remaining connections", ["drainMs": "\(drainMilliseconds)"])
        }
        stopLoops()
    }

    /// Closes everything at once and stops the loops.
    package func stopNow() {
        stopLoops()
    }

    private func stopLoops() {
        let (workers, threads) = state.withLock { state in
            let taken = (state.workers, state.threads)
            state.workers = []
            state.threads = []
            return taken
        }
        for worker in workers {
            worker.loop.execute {
                worker.value.closeAll()
                worker.loop.stop()
            }
        }
        for thread in threads { thread.join() }
        shared.workers.withLock { $0 = [] }
        let healthChecks = prober.withLock { current -> HealthProber? in
            let taken = current
            current = nil
            return taken
        }
        healthChecks?.stop()
        let adminServer = admin.withLock { server -> AdminServer? in
            let taken = server
            server = nil
            return taken
        }
        adminServer?.stop()
        shared.accessLog.stop()
    }
}

/// Listening sockets handed to one worker by a reload.
struct LoopBoundListeners: @unchecked Sendable {
    // @unchecked Sendable: plain descriptors and immutable Sendable listener values; the
    // wrapper exists only because tuples in an array are not inferred Sendable here.
    let listeners: [(RuntimeListener, Int32)]
    init(_ listeners: [(RuntimeListener, Int32)]) { self.listeners = listeners }
}
