import Gateway
import HTTP1
import Reactor

/// Turns a complete request head into its answer: normalizes the path, routes, answers
/// directly or refuses, or picks a server, computes the deadline, writes the upstream head
/// and starts a `ProxyExchange` — the step between `ClientConnection` and the exchange.
///
/// One per loop, with the state that choice needs: the balancers of the loop's generation
/// and the finished exchanges kept for reuse. Loop-confined.
final class RequestDispatcher {
    /// Per-loop balancer state for each upstream of the current generation.
    private var balancers: [Balancer]
    /// The forwarded request target, reused.
    private var targetScratch: [UInt8] = []
    /// Finished exchanges ready for another request (see `retire`).
    private var spareExchanges: [ProxyExchange] = []
    private static let maxSpareExchanges = 1024
    /// Once set, finished exchanges are dropped instead of kept (the loop is closing).
    private var isClosed = false

    init(snapshot: RuntimeSnapshot) {
        balancers = snapshot.upstreams.map(\.balancer)
    }

    /// Starts over with a new generation's balancers; spare exchanges hold the old one.
    func adopt(_ snapshot: RuntimeSnapshot) {
        balancers = snapshot.upstreams.map(\.balancer)
        spareExchanges.removeAll()
    }

    /// Drops every spare exchange and keeps none from now on (shutdown): each holds its worker.
    func close() {
        isClosed = true
        spareExchanges.removeAll()
    }

    // MARK: Dispatch

    /// Answers a complete request head that arrived on `client`. The head's spans point into
    /// `client.input.readable`; the head bytes are consumed here.
    /// `resumed`: the verdict of a cluster rate limit for a head that waited for Redis and
    /// is dispatched again (`ClientConnection.resumeAfterRateLimit`); it was counted, and its
    /// clock started, the first time.
    func dispatch(_ head: RequestHead, from client: ClientConnection, resumed: ResumedRateLimit? = nil) {
        let worker = client.worker
        let snapshot = worker.snapshot
        let bytes = client.input.readable
        // What the client's Connection names is removed before anything is forwarded (RFC 9110
        // §7.6.1), so none of it counts here either: not its X-Request-Id, X-Request-Timeout-Ms
        // or X-Forwarded-For.
        let named = ConnectionNames(of: head, bytes: bytes)
        let requestID = clientRequestID(head, bytes, named: named) ?? worker.newRequestID()
        let startedAt = resumed?.startedAt ?? worker.loop.instant
        if resumed == nil { worker.requestStarted() }
        var logDetails: RequestLogDetails?
        if worker.shared.accessLog.isEnabled {
            logDetails = RequestLogDetails(
                clientIP: clientIP(client, head: head, bytes: bytes, named: named),
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

        // Paths are normalized (RFC 3986 §5.2.4 dot segments) before routing; the normalized
        // path is what is forwarded.
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
            refuse(ClientConnection.proxyError(for: error), head: head, client: client, record: record())
            return
        }

        let routeIndex: Int? = withPath(normalized, rawPath, slash: head.originTargetNeedsSlash) { path in
            snapshot.routeTable.match(
                method: head.methodSpan.bytes(in: bytes), host: head.host.map { $0.bytes(in: bytes) },
                path: path,
                headerValue: { name in
                    for field in head.fields where ASCII.equalsIgnoringCase(field.name.bytes(in: bytes), name)
                    {
                        return field.value.bytes(in: bytes)
                    }
                    return nil
                })
        }
        guard let routeIndex else {
            refuse(
                ProxyError(.noRoute, "no route matches the request"), head: head, client: client,
                record: record())
            return
        }
        let route = snapshot.routes[routeIndex]
        if resumed == nil { worker.routeMatched(route) }
        // Rate limiting comes first: a refused request costs no upstream work at all.
        var rateLimitDecision: RateLimitDecision?
        if let limitRef = route.rateLimitRef {
            let decision: RateLimitDecision
            if resumed == nil && limitRef._withUnsafeGuaranteedRef({ $0.cluster == nil }) {
                decision = limitRef._withUnsafeGuaranteedRef { limit in
                    limit.store.decide(
                        key: rateLimitKey(limit, head: head, bytes: bytes, client: client, named: named),
                        at: startedAt)
                }
            } else {
                guard
                    let decided = clusterDecision(
                        limitRef.takeUnretainedValue(), resumed: resumed, route: route, head: head,
                        bytes: bytes,
                        client: client, named: named, startedAt: startedAt,
                        record: RequestRecord(
                            requestID: requestID, startedAt: startedAt, logDetails: logDetails))
                else { return }
                decision = decided
            }
            if !decision.admitted {
                worker.rateLimited(route)
                let limit = limitRef.takeUnretainedValue()
                if !limit.isDryRun {
                    refuseRateLimited(
                        decision, limit: limit, head: head, client: client, record: record(route))
                    return
                }
            }
            rateLimitDecision = decision
        }

        switch route.action {
        case .direct(let status, let body, let contentType):
            // A request body is not read for a direct response, so the connection cannot be reused.
            let close = !head.isKeepAlive || !head.framing.isEmpty
            client.input.consume(head.headLength)
            var record = record(route)
            record.status = status
            record.bytesOut = client.writeResponse(
                status: status, body: body, contentType: contentType,
                extraHeaders: [(ClientConnection.requestIDName, requestID.bytes)], close: close,
                request: RequestContext(
                    head, requestID: requestID,
                    rateLimitFields: rateLimitDecision.flatMap { route.rateLimit?.fieldBytes($0) }),
                routeHeaders: route.responseHeaders)
            worker.recordExchange(record)
        case .upstream(let upstreamIndex):
            let upstream = snapshot.upstreams[upstreamIndex]
            if case .contentLength(let length) = head.framing, snapshot.config.limits.maxRequestBodyBytes > 0,
                length > UInt64(snapshot.config.limits.maxRequestBodyBytes)
            {
                refuse(
                    ProxyError(.payloadTooLarge, "the request body is too large"), head: head, client: client,
                    record: record(route, upstream),
                    rateLimitFields: rateLimitDecision.flatMap { route.rateLimit?.fieldBytes($0) })
                return
            }
            let keyHash =
                upstream.balancerKey.map {
                    balancerKeyHash(
                        $0, head: head, bytes: bytes, client: client, named: named,
                        clientIP: logDetails?.clientIP, normalizedPath: normalized, rawPath: rawPath)
                } ?? 0
            let choice: ServerChoice
            switch chooseServer(of: upstream, keyHash: keyHash, worker: worker, at: startedAt, avoiding: 0) {
            case .server(let server, let admission): choice = (server, admission)
            case .none(let error):
                refuse(
                    error, head: head, client: client, record: record(route, upstream),
                    rateLimitFields: rateLimitDecision.flatMap { route.rateLimit?.fieldBytes($0) })
                return
            }
            let server = choice.server
            // Client requests are what the retry budget is a share of.
            if route.retryPolicy.maxRetries > 0 { route.state.retryBudget.recordRequest(at: startedAt) }
            let budget = RequestDeadline.budget(
                routeTimeout: route.timeout, clientHeader: clientTimeout(head, bytes, named: named))
            let deadline = budget.map { startedAt + $0 }
            let wantsUpgrade = head.connectionUpgrade && head.asksForWebSocket(bytes)
            let exchange: ProxyExchange
            if let spare = takeSpareExchange(iteration: worker.loop.iteration) {
                spare.reuse(
                    client: client, snapshot: snapshot, route: route, upstream: upstream, server: server,
                    head: head, requestID: requestID, startedAt: startedAt, logDetails: logDetails,
                    deadline: deadline, wantsUpgrade: wantsUpgrade)
                exchange = spare
            } else {
                exchange = ProxyExchange(
                    client: client, worker: worker, snapshot: snapshot, route: route, upstream: upstream,
                    server: server, head: head,
                    record: RequestRecord(requestID: requestID, startedAt: startedAt, logDetails: logDetails),
                    deadline: deadline, wantsUpgrade: wantsUpgrade)
            }
            // The upstream head is written straight into the exchange, which keeps it for a
            // resend on a new connection.
            exchange.requestHead.reset()
            withPath(normalized, rawPath, slash: head.originTargetNeedsSlash) { path in
                targetScratch.removeAll(keepingCapacity: true)
                snapshot.routeTable.appendForwardTarget(
                    route: route.index, path: path, query: query, to: &targetScratch)
                let attemptBudget = RequestDeadline.attemptBudget(
                    request: budget, perTry: route.retryPolicy.perTryTimeout)
                exchange.timeoutValue = targetScratch.withUnsafeBytes { target in
                    UpstreamRequestHead.write(
                        head, bytes: bytes, named: named, route: route, peerTrusted: peerIsTrusted(client),
                        requestID: requestID,
                        millisecondsLeft: attemptBudget.map { UInt64($0.millisecondsRoundedUp) },
                        peerAddress: client.peerText, target: target, upgrade: wantsUpgrade,
                        into: &exchange.requestHead)
                }
            }
            // The head's bytes go now; only a route mapping redirects back needs its Host later.
            exchange.clientHost =
                route.redirectRewrite == nil ? nil : head.host.map { Array($0.bytes(in: bytes)) }
            client.input.consume(head.headLength)
            exchange.balancerKeyHash = keyHash
            exchange.rateLimitDecision = rateLimitDecision
            exchange.breakerAdmission = choice.admission
            client.beginExchange(exchange)
            exchange.start(deadline: deadline)
        }
    }

    /// A cluster limit's decision (or a resumed request's), or nil when the request was
    /// answered (503 from a `closed` fallback) or parked until Redis answers (the client is
    /// resumed with the verdict). Out of line: routes without a cluster limit never pay for it.
    @inline(never)
    private func clusterDecision(
        _ limit: RuntimeRateLimit, resumed: ResumedRateLimit?, route: RuntimeRoute, head: RequestHead,
        bytes: UnsafeRawBufferPointer, client: ClientConnection, named: ConnectionNames, startedAt: Instant,
        record: RequestRecord
    ) -> RateLimitDecision? {
        let worker = client.worker
        let verdict: ClusterRateLimiter.Verdict
        if let resumed {
            verdict = resumed.verdict
        } else {
            let key = rateLimitKey(limit, head: head, bytes: bytes, client: client, named: named)
            guard let cluster = limit.cluster else { return limit.store.decide(key: key, at: startedAt) }
            if let connection = worker.redis {
                let deadline = RequestDeadline.budget(
                    routeTimeout: route.timeout, clientHeader: clientTimeout(head, bytes, named: named)
                ).map { (startedAt + $0).nanoseconds }
                guard
                    let decided = cluster.decide(
                        key: key, on: worker.loop, connection: connection, deadline: deadline,
                        resume: { [client] verdict in
                            client.resumeAfterRateLimit(verdict, startedAt: startedAt)
                        })
                else {
                    // Parked until Redis answers (or the call fails over to the fallback).
                    client.parkForRateLimit()
                    return nil
                }
                verdict = decided
            } else {
                // No connection made for this generation's backend (cannot happen: the worker
                // makes one when it adopts the snapshot); never park without one.
                verdict = cluster.fallbackVerdict(key: key, now: worker.loop.now)
            }
        }
        switch verdict {
        case .decided(let decision):
            return decision
        case .unavailable(let retryAfter):
            var fields = HeadWriter(capacity: 32)
            fields.field("Retry-After", decimal: retryAfter)
            var record = record
            record.route = route
            refuse(
                ProxyError(.rateLimitUnavailable, "the cluster rate limit cannot be checked now"), head: head,
                client: client, record: record, rateLimitFields: Array(fields.bytes))
            return nil
        }
    }

    typealias ServerChoice = (server: RuntimeServer, admission: CircuitBreakerAdmission)

    /// The server for an attempt and its circuit breaker's admission: the balancer's pick
    /// among the healthy servers whose circuit lets an attempt through, preferring those not
    /// in `avoiding` (bit n for server n: the servers a retry already tried; past the 64th
    /// server a retry avoids none). `keyHash` is the request's (see `balancerKeyHash`), so a
    /// consistent-hash retry walks on to the key's next server. None: 503
    /// `no_healthy_upstream` when every server fails its health checks, else `circuit_open`.
    func chooseServer(
        of upstream: RuntimeUpstream, keyHash: UInt64, worker: Worker, at now: Instant, avoiding: UInt64
    ) -> ServerPick {
        if avoiding != 0,
            let choice = choose(upstream, keyHash: keyHash, worker: worker, at: now, skipping: avoiding)
        {
            return .server(choice.server, choice.admission)
        }
        if let choice = choose(upstream, keyHash: keyHash, worker: worker, at: now, skipping: 0) {
            return .server(choice.server, choice.admission)
        }
        if upstream.healthCheck != nil && !upstream.servers.contains(where: { $0.state.health.isHealthy }) {
            return .none(ProxyError(.noHealthyUpstream, "every server fails its health checks"))
        }
        return .none(ProxyError(.circuitOpen, "every server's circuit breaker is open"))
    }

    /// Whether a retry could find a server now: one that is healthy (when checked) and whose
    /// circuit would admit an attempt. Asked before a retry is promised; the backoff wait
    /// may still change the answer, and the retry then ends as `chooseServer` says.
    func canTakeRetry(_ upstream: RuntimeUpstream, at now: Instant) -> Bool {
        let config = upstream.circuitBreaker
        let checksHealth = upstream.healthCheck != nil
        return upstream.servers.contains {
            (!checksHealth || $0.state.health.isHealthy) && $0.state.breaker.wouldAdmit(at: now, config)
        }
    }

    /// The balancer's pick among the servers not in `skipping` that are healthy and whose
    /// circuit admits an attempt, with the admission taken; nil when there is none.
    private func choose(
        _ upstream: RuntimeUpstream, keyHash: UInt64, worker: Worker, at now: Instant, skipping: UInt64
    ) -> ServerChoice? {
        // `upstream` (a parameter, held by the caller) is read in place: a local copy of its
        // server array would cost a retain and a release per request.
        let config = upstream.circuitBreaker
        let checksHealth = upstream.healthCheck != nil
        var skip = skipping
        while true {
            let picked = pick(
                upstream, keyHash: keyHash, worker: worker,
                excluding: {
                    ($0 < 64 && skip & (1 << UInt64($0)) != 0)
                        || (checksHealth && !upstream.servers[$0].state.health.isHealthy)
                        || !upstream.servers[$0].state.breaker.wouldAdmit(at: now, config)
                })
            guard let index = picked else { return nil }
            let server = upstream.servers[index]
            let admission = server.state.breaker.admit(at: now, config)
            if admission.isAllowed { return (server, admission) }
            // Its circuit opened (or its trials filled) between the look and the take.
            guard index < 64 else { return nil }
            skip |= 1 << UInt64(index)
        }
    }

    /// What `chooseServer` found.
    enum ServerPick {
        case server(RuntimeServer, CircuitBreakerAdmission)
        case none(ProxyError)
    }

    /// The balancer's pick for `upstream` with this loop's random numbers and in-flight counts.
    private func pick(
        _ upstream: RuntimeUpstream, keyHash: UInt64, worker: Worker, excluding: (Int) -> Bool
    ) -> Int? {
        let input = BalancerInput(random: worker.random.next(), keyHash: keyHash)
        return balancers[upstream.index].pick(
            input, inFlight: { worker.stats.servers[upstream.servers[$0].statSlot].activeRequests },
            excluding: excluding)
    }

    // MARK: Exchange reuse

    /// A finished exchange, kept for another request. It is stamped with the loop iteration
    /// it finished in and reused only in a later one: by then every call on its previous
    /// request has returned to the loop, so it can never be reused while one is unwinding.
    func retire(_ exchange: ProxyExchange) {
        guard !isClosed else { return }  // nothing more is served; keep no cycle alive
        guard spareExchanges.count < Self.maxSpareExchanges else { return }
        exchange.retiredIteration = exchange.worker.loop.iteration
        spareExchanges.append(exchange)
    }

    /// The most recently retired exchange that finished before this loop iteration.
    private func takeSpareExchange(iteration current: UInt64) -> ProxyExchange? {
        var index = spareExchanges.count - 1
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

    // MARK: Helpers

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

    /// The hash of the request's balancing key (`hashOn`, docs/configuration.md): the client
    /// address as text (`clientIP`: already worked out for the access log, when it is on), the
    /// path as routed, or the first value of the named header. A request without that header
    /// hashes the empty key, so all such requests go to one server.
    private func balancerKeyHash(
        _ key: BalancerKey, head: RequestHead, bytes: UnsafeRawBufferPointer, client: ClientConnection,
        named: ConnectionNames, clientIP known: String?, normalizedPath: [UInt8]?,
        rawPath: UnsafeRawBufferPointer
    ) -> UInt64 {
        switch key {
        case .clientIP:
            var text = known ?? clientIP(client, head: head, bytes: bytes, named: named)
            return text.withUTF8 { ConsistentHash.hash(key: UnsafeRawBufferPointer($0)) }
        case .path:
            return withPath(normalizedPath, rawPath, slash: head.originTargetNeedsSlash) {
                ConsistentHash.hash(key: $0)
            }
        case .header(let name):
            for field in head.fields where ASCII.equalsIgnoringCase(field.name.bytes(in: bytes), name) {
                return ConsistentHash.hash(key: field.value.bytes(in: bytes))
            }
            return ConsistentHash.hash(key: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// Answers a request the gateway refuses before any upstream work.
    private func refuse(
        _ error: ProxyError, head: RequestHead, client: ClientConnection, record: consuming RequestRecord,
        rateLimitFields: [UInt8]? = nil
    ) {
        client.input.consume(head.headLength)
        let unreadBody = !head.framing.isEmpty
        record.status = error.status
        record.errorKind = error.kind
        record.bytesOut = client.respondWithError(
            error,
            request: RequestContext(head, requestID: record.requestID, rateLimitFields: rateLimitFields),
            closing: unreadBody)
        client.worker.recordExchange(record)
    }

    /// Answers a request its route's rate limit refuses: 429 `rate_limited`, written from
    /// the limit's prepared bytes into the worker's head writer (no allocation).
    private func refuseRateLimited(
        _ decision: RateLimitDecision, limit: RuntimeRateLimit, head: RequestHead, client: ClientConnection,
        record: consuming RequestRecord
    ) {
        let worker = client.worker
        // As for every gateway-made response: an unread body or a client that asked for it
        // closes the connection, and so does a drain.
        let close = !head.framing.isEmpty || !head.isKeepAlive || client.isLastRequestOfDrain
        let connection: StaticString? = close ? "close" : head.version == .http10 ? "keep-alive" : nil
        worker.responseHeadWriter.reset()
        guard
            let bodyCount = limit.writeRefusal(
                decision, requestID: record.requestID, date: worker.dateCache.current(),
                headOnly: head.method == .head, connection: connection, into: &worker.responseHeadWriter)
        else {
            refuse(
                RuntimeRateLimit.refusal, head: head, client: client, record: record,
                rateLimitFields: limit.fieldBytes(decision))
            return
        }
        client.input.consume(head.headLength)
        client.sendResponse(worker.responseHeadWriter.bytes, close: close)
        record.status = 429
        record.errorKind = .rateLimited
        record.bytesOut = bodyCount
        worker.recordExchange(record)
    }

    /// The client's X-Request-Id when it is valid and Connection does not name it.
    private func clientRequestID(
        _ head: RequestHead, _ bytes: UnsafeRawBufferPointer, named: ConnectionNames
    ) -> RequestID? {
        guard !named.contains(.xRequestId), let field = head.fields.first(where: { $0.known == .xRequestId })
        else { return nil }
        return RequestID(client: field.value.bytes(in: bytes))
    }

    /// The client's X-Request-Timeout-Ms value unless Connection names it.
    private func clientTimeout(
        _ head: RequestHead, _ bytes: UnsafeRawBufferPointer, named: ConnectionNames
    ) -> UnsafeRawBufferPointer? {
        guard !named.contains(.xRequestTimeoutMs),
            let field = head.fields.first(where: { $0.known == .xRequestTimeoutMs })
        else { return nil }
        return field.value.bytes(in: bytes)
    }

    func peerIsTrusted(_ client: ClientConnection) -> Bool {
        guard !client.listener.trustedProxies.isEmpty, let peer = client.peer else { return false }
        return isTrusted(peer.gatewayIP, client.listener)
    }

    func isTrusted(_ ip: IPAddress, _ listener: RuntimeListener) -> Bool {
        listener.trustedProxies.contains { $0.contains(ip) }
    }

    /// The client address used everywhere (docs/operations.md, "Client address"): the peer;
    /// or, when the peer is a trusted proxy, the rightmost X-Forwarded-For entry that is not
    /// itself trusted (the leftmost when all are). Entries that are not IP addresses end the
    /// walk: nothing left of them can be believed. An X-Forwarded-For that Connection names
    /// is not forwarded, so it is not believed either.
    private func clientIP(
        _ client: ClientConnection, head: RequestHead?, bytes: UnsafeRawBufferPointer, named: ConnectionNames
    ) -> String {
        guard let head, peerIsTrusted(client), !named.contains(.xForwardedFor) else { return client.peerText }
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
}
