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
    /// Per-loop balancer state for each upstream of `snapshot`.
    private var balancers: [Balancer]
    let pool: UpstreamPool
    /// Socket buffers for the current snapshot's buffer size.
    private(set) var buffers: BufferPool
    /// Every pool this loop made, kept for life: buffers of connections opened under an
    /// earlier generation (another size) still go back to theirs.
    private var bufferPools: [Int: BufferPool] = [:]
    var listeners: [ListenerHandler] = []
    private var clients: [ObjectIdentifier: ClientConnection] = [:]
    private var upstreamConnections = 0
    var dateCache = HTTPDateCache()
    /// Reused for every serialized request head, so building one allocates nothing in
    /// steady state.
    var requestHeadWriter = HeadWriter()
    /// The same for response heads (separate: a response may be written while a request
    /// head is still in use).
    var responseHeadWriter = HeadWriter()
    /// Lent to every head parser on this loop (request and response heads alike): a parsed
    /// head's field list lives here until the next head is parsed.
    var fieldStorage: [HeaderField] = []
    /// The forwarded request target, reused.
    private var targetScratch: [UInt8] = []
    /// Finished exchanges ready for another request (see `retire`).
    private var spareExchanges: [ProxyExchange] = []
    private static let maxSpareExchanges = 1024
    var random = FastRandom()
    private(set) var isDraining = false
    private var isClosed = false
    /// This loop's counters: plain integers, no atomics; the admin endpoint copies them.
    private(set) var stats: WorkerStats

    init(index: Int, loop: EventLoop, shared: GatewayShared, snapshot: RuntimeSnapshot) {
        self.index = index
        self.loop = loop
        self.pool = UpstreamPool(loop: loop)
        self.shared = shared
        self.snapshot = snapshot
        self.balancers = snapshot.upstreams.map(\.balancer)
        self.stats = WorkerStats(layout: snapshot.statLayout)
        self.buffers = BufferPool(capacity: snapshot.bufferBytes)
        self.bufferPools[snapshot.bufferBytes] = buffers
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

    func upstreamOpened(_ connection: UpstreamConnection) {
        upstreamConnections += 1
        connection.server.state.openConnections.add(1, ordering: .relaxed)
    }

    func upstreamClosed(_ connection: UpstreamConnection) {
        upstreamConnections -= 1
        connection.server.state.openConnections.subtract(1, ordering: .relaxed)
    }

    func newRequestID() -> RequestID {
        RequestID(using: &random)
    }

    // MARK: Requests

    /// Routes a complete request head and starts answering it. The head's spans point into
    /// `client.input.readable`; the head bytes are consumed here.
    func handleRequest(_ head: RequestHead, on client: ClientConnection) {
        let snapshot = self.snapshot
        let bytes = client.input.readable
        let requestID = clientRequestID(head, bytes) ?? newRequestID()
        let startedAt = loop.now
        stats.process.requestsTotal += 1
        stats.process.requestsActive += 1
        var logDetails: RequestLogDetails?
        if shared.accessLog.isEnabled {
            logDetails = RequestLogDetails(
                clientIP: clientIP(client, head: head, bytes: bytes),
                method: Array(head.methodSpan.bytes(in: bytes)),
                host: head.host.map { Array($0.bytes(in: bytes)) } ?? [],
                target: Array(head.target.bytes(in: bytes)))
        }
        // Requests answered here get a record made on the spot; a proxied one starts the
        // record kept inside its exchange (no copy of the record per request).
        func record(_ route: RuntimeRoute? = nil, _ upstream: RuntimeUpstream? = nil) -> RequestRecord {
            var record = RequestRecord(requestID: requestID, startedAt: startedAt, logDetails: logDetails)
            record.route = route
            record.upstream = upstream
            return record
        }

        // Path normalization (SPEC 5) before routing; the normalized path is what is forwarded.
        let origin = head.originTarget.bytes(in: bytes)
        let pathEnd = RequestTarget.splitQuery(origin)
        let rawPath = UnsafeRawBufferPointer(rebasing: origin[0..<pathEnd])
        // The query without its "?", nil when there is no "?" at all.
        let query: UnsafeRawBufferPointer? =
            pathEnd < origin.count ? UnsafeRawBufferPointer(rebasing: origin[(pathEnd + 1)...]) : nil
        let normalized: [UInt8]?
        do {
            normalized = try RequestTarget.normalizePath(rawPath)
        } catch {
            reject(ClientConnection.proxyError(for: error), head: head, client: client, record: record())
            return
        }

        let routeIndex: Int? = withPath(normalized, rawPath, slash: head.originTargetNeedsSlash) { path in
            snapshot.routeTable.match(
                method: head.methodSpan.bytes(in: bytes), host: head.host.map { $0.bytes(in: bytes) },
                path: path,
                headerValue: { name in
                    for field in head.fields where Bytes.equalsIgnoringCase(field.name.bytes(in: bytes), name)
                    {
                        return field.value.bytes(in: bytes)
                    }
                    return nil
                })
        }
        guard let routeIndex else {
            reject(
                ProxyError(.noRoute, "no route matches the request"), head: head, client: client,
                record: record())
            return
        }
        let route = snapshot.routes[routeIndex]
        stats.routes[route.statSlot].requests += 1

        switch route.action {
        case .direct(let status, let body, let contentType):
            // A request body is not read for a direct response, so the connection cannot be reused.
            let close = !head.isKeepAlive || !head.framing.isEmpty
            client.input.consume(head.headLength)
            var record = record(route)
            record.status = status
            client.writeResponse(
                status: status, body: body, contentType: contentType,
                extraHeaders: [(ClientConnection.requestIDName, requestID.bytes)], close: close,
                request: Self.context(head, requestID), routeHeaders: route.responseHeaders)
            recordExchange(record)
        case .upstream(let upstreamIndex):
            let upstream = snapshot.upstreams[upstreamIndex]
            if case .contentLength(let length) = head.framing, snapshot.config.limits.maxRequestBodyBytes > 0,
                length > UInt64(snapshot.config.limits.maxRequestBodyBytes)
            {
                reject(
                    ProxyError(.payloadTooLarge, "the request body is too large"), head: head, client: client,
                    record: record(route, upstream))
                return
            }
            guard let serverIndex = balancers[upstreamIndex].pick(excluding: { _ in false }) else {
                reject(
                    ProxyError(.noHealthyUpstream, "no server is available"), head: head, client: client,
                    record: record(route, upstream))
                return
            }
            let server = upstream.servers[serverIndex]
            let timeoutHeader = head.fields.first { $0.known == .xRequestTimeoutMs }.map {
                $0.value.bytes(in: bytes)
            }
            let deadlineMs = DeadlineMath.budgetMilliseconds(
                routeTimeoutMs: route.timeoutMs, clientHeader: timeoutHeader)
            requestHeadWriter.reset()
            withPath(normalized, rawPath, slash: head.originTargetNeedsSlash) { path in
                targetScratch.removeAll(keepingCapacity: true)
                snapshot.routeTable.appendForwardTarget(
                    route: route.index, path: path, query: query, to: &targetScratch)
                targetScratch.withUnsafeBytes { target in
                    UpstreamRequestHead.write(
                        head, bytes: bytes, route: route, peerTrusted: peerIsTrusted(client),
                        requestID: requestID,
                        deadlineMs: deadlineMs, peerAddress: client.peerText, target: target,
                        into: &requestHeadWriter)
                }
            }
            // The head's bytes go now; only a route mapping redirects back needs its Host later.
            let clientHost = route.redirectRewrite == nil ? nil : head.host.map { Array($0.bytes(in: bytes)) }
            client.input.consume(head.headLength)
            let exchange: ProxyExchange
            if let spare = takeSpareExchange() {
                spare.reuse(
                    client: client, snapshot: snapshot, route: route, upstream: upstream, server: server,
                    head: head, requestID: requestID, startedAt: startedAt, logDetails: logDetails)
                exchange = spare
            } else {
                exchange = ProxyExchange(
                    client: client, worker: self, snapshot: snapshot, route: route, upstream: upstream,
                    server: server, head: head,
                    record: RequestRecord(requestID: requestID, startedAt: startedAt, logDetails: logDetails))
            }
            exchange.clientHost = clientHost
            client.exchange = exchange
            client.phase = .exchanging
            exchange.start(deadlineMs: deadlineMs, requestHead: requestHeadWriter.bytes)
        }
    }

    private static func context(_ head: RequestHead, _ requestID: RequestID) -> RequestContext {
        RequestContext(
            version: head.version, method: head.method, keepAlive: head.isKeepAlive, requestID: requestID)
    }

    // MARK: Exchange reuse

    /// A finished exchange, kept for another request. It is stamped with the loop iteration
    /// it finished in and reused only in a later one: by then every call on its previous
    /// request has returned to the loop, so it can never be reused while one is unwinding.
    func retire(_ exchange: ProxyExchange) {
        guard !isClosed else { return }  // nothing more is served; keep no cycle alive
        guard spareExchanges.count < Self.maxSpareExchanges else { return }
        exchange.retiredIteration = loop.iteration
        spareExchanges.append(exchange)
    }

    /// The most recently retired exchange that finished before this loop iteration.
    private func takeSpareExchange() -> ProxyExchange? {
        var index = spareExchanges.count - 1
        let current = loop.iteration
        // Skips only the exchanges retired in this iteration (at most one per event).
        while index >= 0 {
            if spareExchanges[index].retiredIteration != current {
                spareExchanges.swapAt(index, spareExchanges.count - 1)
                return spareExchanges.removeLast()
            }
            index -= 1
        }
        return nil
    }

    /// Calls `body` with the path to route on: the normalized copy when normalization
    /// changed it, else the original bytes ("/" for an absolute-form target with no path).
    @discardableResult
    private func withPath<R>(
        _ normalized: [UInt8]?, _ raw: UnsafeRawBufferPointer, slash: Bool,
        _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        if let normalized { return normalized.withUnsafeBytes(body) }
        if slash || raw.isEmpty { return Self.rootPath.withUnsafeBytes(body) }
        return body(raw)
    }

    private static let rootPath: [UInt8] = [UInt8(ascii: "/")]

    private func reject(
        _ error: ProxyError, head: RequestHead, client: ClientConnection, record: consuming RequestRecord
    ) {
        client.input.consume(head.headLength)
        let unreadBody = !head.framing.isEmpty
        record.status = error.status
        record.errorKind = error.kind
        client.respondWithError(error, request: Self.context(head, record.requestID), closing: unreadBody)
        recordExchange(record)
    }

    private func clientRequestID(_ head: RequestHead, _ bytes: UnsafeRawBufferPointer) -> RequestID? {
        guard let field = head.fields.first(where: { $0.known == .xRequestId }) else { return nil }
        return RequestID(client: field.value.bytes(in: bytes))
    }

    private func peerIsTrusted(_ client: ClientConnection) -> Bool {
        guard !client.listener.trustedProxies.isEmpty, let peer = client.peer else { return false }
        return isTrusted(peer.gatewayIP, client.listener)
    }

    private func isTrusted(_ ip: IPAddress, _ listener: RuntimeListener) -> Bool {
        listener.trustedProxies.contains { $0.contains(ip) }
    }

    /// The client address used everywhere (SPEC 7): the peer; or, when the peer is a trusted
    /// proxy, the rightmost X-Forwarded-For entry that is not itself trusted (the leftmost
    /// when all are). Entries that are not IP addresses end the walk: nothing left of them
    /// can be believed.
    private func clientIP(_ client: ClientConnection, head: RequestHead?, bytes: UnsafeRawBufferPointer)
        -> String
    {
        guard let head, peerIsTrusted(client) else { return client.peerText }
        var entries: [UnsafeRawBufferPointer] = []
        for field in head.fields where field.known == .xForwardedFor {
            Bytes.forEachListElement(field.value.bytes(in: bytes)) { entries.append($0) }
        }
        guard !entries.isEmpty else { return client.peerText }
        for entry in entries.reversed() {
            guard let ip = IPAddress(bytes: entry) else { return String(decoding: entry, as: UTF8.self) }
            if !isTrusted(ip, client.listener) { return ip.description }
        }
        return IPAddress(bytes: entries[0])?.description ?? client.peerText
    }

    // MARK: Accounting

    /// An upstream attempt begins (counted as a request of the upstream and the server,
    /// a failed connect included).
    func exchangeStarted(_ record: inout RequestRecord, server: RuntimeServer) {
        record.serverSlot = server.statSlot
        stats.servers[server.statSlot].activeRequests += 1
    }

    /// A routed request ended: count it, measure it, log it.
    func recordExchange(_ record: borrowing RequestRecord) {
        let now = loop.now
        stats.process.requestsActive -= 1
        if let slot = record.route?.statSlot {
            stats.routes[slot].recordResponse(status: record.status)
            stats.routes[slot].recordLatency(
                nanoseconds: now &- record.startedAt, at: Instant(nanoseconds: now))
            if record.errorKind == .deadlineExceeded { stats.routes[slot].timeouts += 1 }
            if record.cancelled { stats.routes[slot].cancelled += 1 }
        }
        if let slot = record.upstream?.statSlot, record.attempts > 0 {
            stats.upstreams[slot].requests += UInt64(record.attempts)
            if record.upstreamFailed { stats.upstreams[slot].failures += 1 }
        }
        if let slot = record.serverSlot {
            stats.servers[slot].activeRequests -= 1
            stats.servers[slot].requests += UInt64(record.attempts)
            if record.upstreamFailed { stats.servers[slot].failures += 1 }
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

    /// A request that failed before its head could be parsed (400, 408, 414, 431, ...).
    func recordUnparsedRequest(status: Int, error: ProxyError, requestID: RequestID, client: ClientConnection)
    {
        var record = RequestRecord(requestID: requestID, startedAt: loop.now, logDetails: nil)
        if shared.accessLog.isEnabled {
            record.logDetails = RequestLogDetails(clientIP: client.peerText, method: [], host: [], target: [])
        }
        record.status = status
        record.errorKind = error.kind
        stats.process.requestsTotal += 1
        shared.accessLog.write(record, now: loop.now)
    }

    // MARK: Reload

    /// Switches new requests to `snapshot` (requests in flight keep theirs), opens the
    /// listeners a reload added and closes the ones it removed (their connections stay
    /// and finish).
    func apply(
        _ snapshot: RuntimeSnapshot, addedListeners: [(RuntimeListener, Int32)], removedListeners: Set<String>
    ) {
        self.snapshot = snapshot
        spareExchanges.removeAll()  // they hold the previous generation
        balancers = snapshot.upstreams.map(\.balancer)
        stats.adopt(snapshot.statLayout)
        if buffers.capacity != snapshot.bufferBytes {
            let pool = bufferPools[snapshot.bufferBytes] ?? BufferPool(capacity: snapshot.bufferBytes)
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
        for client in clients.values where client.phase == .awaitingHead && client.input.isEmpty {
            client.close()
        }
        checkDrained()
    }

    /// Closes everything at once. Connections and exchanges refer to the worker strongly, so
    /// this also ends every reference cycle through it.
    func closeAll() {
        isClosed = true
        for listener in listeners { listener.close() }
        listeners.removeAll()
        for client in Array(clients.values) { client.close() }
        pool.closeAll()
        spareExchanges.removeAll()
    }

    private func checkDrained() {
        if isDraining && clients.isEmpty { shared.workerDrained(index) }
    }
}
