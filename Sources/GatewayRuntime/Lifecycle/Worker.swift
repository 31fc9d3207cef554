import Gateway
import HTTP1
import Reactor

/// One event-loop thread and everything it owns: its listening sockets, client
/// connections, upstream pools, balancer state and the snapshot it serves with.
final class Worker {
    let index: Int
    let loop: EventLoop
    let shared: GatewayShared
    /// The configuration generation new requests use on this loop.
    private(set) var snapshot: RuntimeSnapshot
    let pool: UpstreamPool
    /// Requests waiting for a connection to a server at its connection limit.
    private(set) var waiters: ConnectionWaiters!
    /// Routes each request and starts its exchange.
    let dispatcher: RequestDispatcher
    /// Socket buffers for the current snapshot's buffer size.
    private(set) var buffers: BufferPool
    /// Every pool this loop made, kept for life: buffers of connections opened under an
    /// earlier generation (another size) still go back to theirs.
    private var bufferPools: [Int: BufferPool] = [:]
    var listeners: [ListenerHandler] = []
    private var clients: [ObjectIdentifier: ClientConnection] = [:]
    private var upstreamConnections = 0
    var dateCache = HTTPDateCache()
    /// Reused for every serialized response head, so building one allocates nothing in
    /// steady state.
    var responseHeadWriter = HeadWriter()
    /// Lent to every head parser on this loop (request and response heads alike): a parsed
    /// head's field list lives here until the next head is parsed.
    var fieldStorage: [HeaderField] = []
    var random = FastRandom()
    private(set) var isDraining = false
    private var reportedDrained = false
    /// This loop's counters: plain integers, no atomics; the admin endpoint copies them.
    private(set) var stats: WorkerStats
    /// This loop's connection to the Redis of cluster rate limits, for the backend it was
    /// made for.
    private(set) var redis: RedisConnection?
    private var redisBackend: ClusterBackend?

    init(index: Int, loop: EventLoop, shared: GatewayShared, snapshot: RuntimeSnapshot) {
        self.index = index
        self.loop = loop
        self.pool = UpstreamPool(loop: loop)
        self.shared = shared
        self.snapshot = snapshot
        self.dispatcher = RequestDispatcher(snapshot: snapshot)
        self.stats = WorkerStats(layout: snapshot.statLayout)
        self.buffers = BufferPool(capacity: snapshot.bufferBytes, loop: loop)
        self.bufferPools[snapshot.bufferBytes] = buffers
        self.waiters = ConnectionWaiters(worker: self)
        adoptCluster(snapshot.cluster)
    }

    /// One `RedisConnection` per loop for the generation's backend; a new backend (another
    /// `cluster.redis`) gets a new connection, and the old one fails what it still waits for.
    private func adoptCluster(_ backend: ClusterBackend?) {
        guard backend !== redisBackend else { return }
        redis?.close()
        redisBackend = backend
        redis = backend?.connectionSettings.map { RedisConnection(loop: loop, settings: $0) }
    }

    // MARK: Connections

    func accepted(_ fd: Int32, peer: SocketAddress?, listener: RuntimeListener) {
        guard shared.admitConnection() else {
            closeDescriptor(fd)
            return
        }
        let client = ClientConnection(fd: fd, worker: self, peer: peer, listener: listener)
        do {
            try client.start()
        } catch {
            closeDescriptor(fd)
            shared.releaseConnection()
            return
        }
        clients[ObjectIdentifier(client)] = client
    }

    func clientClosed(_ client: ClientConnection) {
        if clients.removeValue(forKey: ObjectIdentifier(client)) != nil {
            shared.releaseConnection()
        }
        checkDrained()
    }

    /// A new upstream connection, counted in its server's `openConnections` when reserved.
    func upstreamOpened() {
        upstreamConnections += 1
    }

    func upstreamClosed(_ connection: UpstreamConnection) {
        upstreamConnections -= 1
        connectionSlotReleased(connection.server)
    }

    /// One of `server`'s connections closed (or a reserved one was never opened): a request
    /// waiting for one on any loop may open it now.
    func connectionSlotReleased(_ server: RuntimeServer) {
        // Sequentially consistent with `ConnectionWaiters.enqueue`: no waiter is missed.
        server.state.openConnections.subtract(1, ordering: .sequentiallyConsistent)
        guard server.state.waiting.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let slot = server.statSlot
        waiters.serveSoon(slot: slot)
        for peer in shared.otherWorkers(than: loop) {
            peer.loop.execute { peer.value.waiters.serveSoon(slot: slot) }
        }
    }

    /// Asks every other loop to close one idle connection to the server in `slot`: a request
    /// here waits for one of its connections, and an idle one elsewhere cannot serve it.
    func askOtherLoopsToShedIdle(_ slot: Int) {
        for peer in shared.otherWorkers(than: loop) {
            peer.loop.execute { peer.value.pool.closeIdle(slot: slot) }
        }
    }

    func newRequestID() -> RequestID {
        RequestID(using: &random)
    }

    // MARK: Accounting

    /// A client request's head is complete.
    func requestStarted() {
        stats.process.requestsTotal += 1
        stats.process.requestsActive += 1
    }

    func routeMatched(_ route: RuntimeRoute) {
        stats.routes[route.statSlot].requests += 1
    }

    /// An upstream attempt begins: counted as a request of the upstream and the server
    /// (a failed connect included).
    func attemptStarted(_ record: inout RequestRecord, server: RuntimeServer) {
        record.server = server
        record.serverSlot = server.statSlot
        stats.servers[server.statSlot].activeRequests += 1
        stats.servers[server.statSlot].requests += 1
        if let slot = record.upstream?.statSlot { stats.upstreams[slot].requests += 1 }
    }

    /// The attempt in progress (if any) ended; `failed` when the upstream failed it.
    func attemptEnded(_ record: inout RequestRecord, failed: Bool) {
        guard let slot = record.serverSlot else { return }
        record.serverSlot = nil
        stats.servers[slot].activeRequests -= 1
        if failed {
            record.upstreamFailed = true
            stats.servers[slot].failures += 1
            if let upstream = record.upstream?.statSlot { stats.upstreams[upstream].failures += 1 }
        }
    }

    /// A route's request was refused by its rate limit (or would have been, in a dry run).
    func rateLimited(_ route: RuntimeRoute) {
        stats.routes[route.statSlot].rateLimited += 1
    }

    /// A route's request is tried again.
    func retried(_ route: RuntimeRoute) {
        stats.routes[route.statSlot].retries += 1
    }

    /// A pooled connection to `server` turned out closed by its peer and the request went out
    /// again on a new one.
    func staleConnectionReused(_ server: RuntimeServer) {
        stats.servers[server.statSlot].staleReuses += 1
    }

    /// A routed request ended: count it, measure it, log it.
    func recordExchange(_ record: borrowing RequestRecord) {
        // The loop's reading is from before this iteration's work: a request answered within
        // one iteration (a direct response, a refused connect) takes a fresh reading, or it
        // would be logged as taking no time at all.
        let iterationNow = loop.instant
        let now = iterationNow > record.startedAt ? iterationNow : .current
        stats.process.requestsActive -= 1
        if let slot = record.route?.statSlot {
            stats.routes[slot].recordResponse(status: record.status)
            // A tunnel's life is not a response time.
            if record.status != 101 { stats.routes[slot].recordLatency(now - record.startedAt, at: now) }
            if record.errorKind == .deadlineExceeded { stats.routes[slot].timeouts += 1 }
            if record.cancelled { stats.routes[slot].cancelled += 1 }
        }
        shared.accessLog.write(record, now: now)
    }

    /// A copy of this loop's counters plus its idle pool sizes per server slot, for /stats.
    func statsCopy() -> (WorkerStats, [Int: Int]) {
        var idle: [Int: Int] = [:]
        for upstream in snapshot.upstreams {
            for server in upstream.servers {
                idle[server.statSlot, default: 0] += pool.idleCount(for: server)
            }
        }
        return (stats, idle)
    }

    /// A request refused before its head was complete (400, 408, 414, 431, ...), with what
    /// was parsed of its request line.
    func recordRefusedHead(
        _ error: ProxyError, requestID: RequestID, method: [UInt8], target: [UInt8], bytesOut: Int,
        client: ClientConnection
    ) {
        var record = RequestRecord(requestID: requestID, startedAt: loop.instant, logDetails: nil)
        if shared.accessLog.isEnabled {
            record.logDetails = RequestLogDetails(
                clientIP: client.peerText, method: method, host: [], target: target)
        }
        record.status = error.status
        record.errorKind = error.kind
        record.bytesOut = bytesOut
        stats.process.requestsTotal += 1
        shared.accessLog.write(record, now: .current)
    }

    // MARK: Reload

    /// Switches new requests to `snapshot` (requests in flight keep theirs), opens the
    /// listeners a reload added and closes the ones it removed (their connections stay
    /// and finish).
    func apply(
        _ snapshot: RuntimeSnapshot, addedListeners: [(RuntimeListener, Int32)], removedListeners: Set<String>
    ) {
        self.snapshot = snapshot
        dispatcher.adopt(snapshot)
        adoptCluster(snapshot.cluster)
        stats.adopt(snapshot.statLayout)
        if buffers.capacity != snapshot.bufferBytes {
            let pool =
                bufferPools[snapshot.bufferBytes] ?? BufferPool(capacity: snapshot.bufferBytes, loop: loop)
            bufferPools[snapshot.bufferBytes] = pool
            buffers = pool
        }
        listeners.removeAll { handler in
            guard removedListeners.contains(handler.listener.key) else { return false }
            handler.close()
            return true
        }
        let byKey = Dictionary(
            snapshot.listeners.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for handler in listeners {
            if let updated = byKey[handler.listener.key] { handler.listener = updated }
        }
        for (listener, fd) in addedListeners {
            let handler = ListenerHandler(fd: fd, listener: listener, worker: self)
            do {
                try handler.start()
                listeners.append(handler)
            } catch {
                closeDescriptor(fd)
                shared.log.error(
                    "cannot watch a new listener", ["listener": listener.key, "error": error.reason])
            }
        }
        if isDraining {
            for listener in listeners { listener.close() }
            listeners.removeAll()
        }
    }

    // MARK: Lifecycle

    /// Stops accepting and closes idle connections; the loop stops when the last one closes.
    func beginDrain() {
        isDraining = true
        for listener in listeners { listener.close() }
        listeners.removeAll()
        pool.closeAll()
        let grace = min(Self.idleDrainGrace, snapshot.config.timeouts.drain)
        for client in clients.values where client.phase == .awaitingHead && client.input.isEmpty {
            client.closeWhenIdle(after: grace)
        }
        checkDrained()
    }

    /// How long an idle connection may still deliver a request when a drain begins: a
    /// keep-alive client may have sent its next request just as the drain began, and a
    /// connection accepted from the backlog has its first request on the way. Closing at
    /// once would reset them (docs/operations.md, "Shutting down").
    static let idleDrainGrace = TimeSpan.milliseconds(500)

    /// Closes everything at once. Connections and exchanges refer to the worker strongly, so
    /// this also ends every reference cycle through it.
    func closeAll() {
        for listener in listeners { listener.close() }
        listeners.removeAll()
        for client in Array(clients.values) { client.close() }
        pool.closeAll()
        dispatcher.close()
        redis?.close()
    }

    /// Reports the worker drained once: its last client connection closed during a drain.
    /// (Reporting it again for every later close would count one worker several times and
    /// end the drain while another worker still has requests in flight.)
    private func checkDrained() {
        guard isDraining, clients.isEmpty, !reportedDrained else { return }
        reportedDrained = true
        shared.workerDrained(index)
    }
}
