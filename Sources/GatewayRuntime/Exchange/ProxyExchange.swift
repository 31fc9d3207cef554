import Gateway
import Glibc
import HTTP1
import Reactor

/// One proxied request on one loop: the shell around its `ExchangeStateMachine`.
///
/// It reports what happens on the sockets and timers to the machine and performs the action
/// it gets back — connect, send, forward, complete, fail, cancel — and keeps no state of
/// the exchange beside the machine: only the codec state of the two bodies, the request
/// head kept for a resend, and the record for stats and the access log. Loop-confined.
final class ProxyExchange: TimerHandler {
    /// The connection the current request came on. Unretained: it owns the exchange while
    /// the request runs and ends it (clientGone) before it goes. The hot paths use it through
    /// `withClient`, which costs no retain/release pair (an unowned reference costs one per
    /// use).
    private var clientRef: Unmanaged<ClientConnection>
    var client: ClientConnection { clientRef.takeUnretainedValue() }

    /// The client without a retain: only inside a call that keeps the client alive, which
    /// every entry from the client side does (the loop holds a handler during its events,
    /// timers and deferred calls) and `holdingClient` does for entries from the upstream side.
    @inline(__always)
    private func withClient<R>(_ body: (ClientConnection) -> R) -> R {
        clientRef._withUnsafeGuaranteedRef(body)
    }

    /// Entries from the upstream side (its socket and timer events) hold the client here:
    /// the exchange may close it, which can drop its last other reference mid-call.
    @inline(__always)
    private func holdingClient(_ body: () -> Void) {
        withExtendedLifetime(clientRef.takeUnretainedValue()) { body() }
    }
    /// The current server without a retain: it belongs to the snapshot the exchange holds,
    /// but a call on an unowned(unsafe) reference would retain it for the call's length.
    @inline(__always) @discardableResult
    private func withServer<R>(_ body: (RuntimeServer) -> R) -> R {
        Unmanaged.passUnretained(server)._withUnsafeGuaranteedRef(body)
    }

    // Strong: a `let` is used without reference counting. The dispatcher's spare list holds
    // exchanges; `Worker.closeAll` empties it, which ends that cycle.
    let worker: Worker
    /// The generation this request runs under, kept alive by the exchange.
    private(set) var snapshot: RuntimeSnapshot
    // unowned(unsafe): parts of `snapshot`, which this exchange holds.
    unowned(unsafe) var route: RuntimeRoute
    unowned(unsafe) var upstream: RuntimeUpstream
    unowned(unsafe) var server: RuntimeServer
    private(set) var machine: ExchangeStateMachine
    private(set) var connection: UpstreamConnection?
    var record: RequestRecord
    /// The request's method (HEAD responses have no body; gateway errors to HEAD neither).
    private var requestMethod = HTTPMethod.get
    /// The client's Host (as sent, port included), kept only when the route maps redirects
    /// back (`RuntimeRoute.redirectRewrite`); nil otherwise or when the client sent none.
    var clientHost: [UInt8]?
    /// The hash of the request's balancing key (0 when the upstream's balancer uses none), kept
    /// so a retry's pick walks on from the same key.
    var balancerKeyHash: UInt64 = 0
    /// The route's rate limiter's decision (set by the dispatcher for every request; nil on
    /// a route without a limit), for the RateLimit fields of the response.
    var rateLimitDecision: RateLimitDecision?

    /// The serialized upstream request head, written here by the dispatcher and kept until
    /// the exchange ends: a request that meets a stale pooled connection goes out again on a
    /// new one. Its storage is reused (and small: most heads are a few hundred bytes).
    var requestHead = HeadWriter(capacity: 512)
    /// Where the value of X-Request-Timeout-Ms is in `requestHead` (none: the request has no
    /// deadline), rewritten when an attempt goes out later than the head was written.
    var timeoutValue: Range<Int>?
    /// The current attempt's deadline: the request's, or sooner with `perTryTimeoutMs`.
    private var attemptDeadline: Instant?
    /// The servers this request's attempts went to (bit n: server n of the upstream), so a
    /// retry prefers one not tried yet.
    private var triedServers: UInt64 = 0
    /// The current attempt's admission by its server's circuit breaker, until the attempt's
    /// verdict is reported (the dispatcher sets the first attempt's).
    var breakerAdmission: CircuitBreakerAdmission?
    private var requestBody = BodyRelay(isResponse: false)
    /// The request body as sent, for another attempt.
    private var replay = RequestReplay()
    private var responseBody = BodyRelay(isResponse: true)
    private var responseParser: ResponseHeadParser
    /// Client output bytes queued before the response head: a head that must be withdrawn
    /// (a failure before any byte of it went out) is cut off there.
    private var clientBytesBeforeHead = 0
    /// When the current attempt's own limit (`perTryTimeoutMs`) passes; nil when none runs.
    private var attemptTimerDue: Instant?
    /// Fires for `attemptTimerDue`. It is left armed when an attempt ends in time and only
    /// moved when due sooner, then re-checks the due time when it fires (as the idle timers
    /// do): steady traffic costs no timer heap operation per request.
    private let attemptTimer = LoopTimer(tag: TimerTag.attempt)
    /// Set while the exchange waits in its loop's `ConnectionWaiters` for a connection to
    /// `server` (every one it may have is open: `pool.maxConnectionsPerServer`).
    private var isWaitingForConnection = false
    /// A tunnel's ends: the client sent its end of stream (relayed as a shutdown of the
    /// upstream's writing side, once everything before it went out), the upstream its own.
    private var clientEndedTunnel = false
    private var upstreamWriteShut = false
    private var upstreamEndedTunnel = false
    /// The wait before a retry.
    private let backoffTimer = LoopTimer(tag: TimerTag.backoff)

    private enum TimerTag {
        static let attempt = 1
        static let backoff = 2
    }
    /// The loop iteration it was retired in (see `RequestDispatcher.retire`).
    var retiredIteration: UInt64 = 0

    init(
        client: ClientConnection, worker: Worker, snapshot: RuntimeSnapshot, route: RuntimeRoute,
        upstream: RuntimeUpstream, server: RuntimeServer, head: RequestHead, record: RequestRecord,
        deadline: Instant?, wantsUpgrade: Bool
    ) {
        self.clientRef = Unmanaged.passUnretained(client)
        self.worker = worker
        self.snapshot = snapshot
        self.route = route
        self.upstream = upstream
        self.server = server
        self.record = record
        // A seed per request spreads retries in time: with one seed, every request's n-th
        // backoff would wait the same time and retries after an outage would go out at once.
        self.machine = ExchangeStateMachine(
            request: ExchangeRequest(head, wantsUpgrade: wantsUpgrade), deadline: deadline,
            seed: worker.random.next())
        self.requestMethod = head.method
        self.responseParser = ResponseHeadParser(
            limits: HeadLimits(maxHeaderBytes: snapshot.config.limits.maxResponseHeaderBytes))
        attemptTimer.handler = self
        backoffTimer.handler = self
        prepare(for: head)
    }

    deinit {
        // The loop's timer heap refers to its timers; their handler is this exchange.
        worker.loop.cancel(attemptTimer)
        worker.loop.cancel(backoffTimer)
    }

    /// Makes a retired exchange serve a new request (no allocation: the parsers, relays and
    /// head storage keep their memory).
    func reuse(
        client: ClientConnection, snapshot: RuntimeSnapshot, route: RuntimeRoute, upstream: RuntimeUpstream,
        server: RuntimeServer, head: RequestHead, requestID: RequestID, startedAt: Instant,
        logDetails: RequestLogDetails?, deadline: Instant?, wantsUpgrade: Bool
    ) {
        self.clientRef = Unmanaged.passUnretained(client)
        if self.snapshot !== snapshot {
            self.snapshot = snapshot
            responseParser = ResponseHeadParser(
                limits: HeadLimits(maxHeaderBytes: snapshot.config.limits.maxResponseHeaderBytes))
        }
        self.route = route
        self.upstream = upstream
        self.server = server
        record.restart(requestID: requestID, startedAt: startedAt, logDetails: logDetails)
        machine = ExchangeStateMachine(
            request: ExchangeRequest(head, wantsUpgrade: wantsUpgrade), deadline: deadline,
            seed: worker.random.next())
        requestMethod = head.method
        responseParser.reset()
        prepare(for: head)
    }

    private func prepare(for head: RequestHead) {
        clientEndedTunnel = false
        upstreamWriteShut = false
        upstreamEndedTunnel = false
        record.route = route
        record.upstream = upstream
        let limit = snapshot.config.limits.maxRequestBodyBytes
        requestBody.reset(
            framing: head.framing, output: head.framing == .chunked ? .chunked : .raw,
            limit: limit > 0 ? UInt64(limit) : .max)
        // A body is kept when it may have to go out again: a retry after it was sent, or a
        // resend of an idempotent request that met a stale pooled connection.
        let idempotent = head.method.isIdempotent
        replay.start(
            keeping: !head.framing.isEmpty
                && (idempotent || route.retryPolicy.mayRetryAfterSending(idempotent: idempotent)))
    }

    var isHTTP10Client: Bool { !machine.request.clientIsHTTP11 }

    // MARK: Starting

    /// Arms the request's timers and starts the first attempt with `requestHead`, which the
    /// dispatcher wrote.
    func start(deadline: Instant?) {
        withClient { client in
            if let deadline { client.armDeadline(at: deadline) }
            client.noteProgress()
            client.armTimeout(after: snapshot.config.timeouts.idle)
        }
        perform(machine.start())
    }

    /// Gets a connection for the current attempt: pooled if one is there, else a new one.
    private func connect(pickServer: Bool) {
        if pickServer {
            let pick = worker.dispatcher.chooseServer(
                of: upstream, keyHash: balancerKeyHash, worker: worker, at: now, avoiding: triedServers)
            switch pick {
            case .server(let next, let admission):
                server = next
                breakerAdmission = admission
            case .none(let error):
                perform(machine.noServerAvailable(error))
                return
            }
        } else {
            triedServers = 0
        }
        // First come, first served: with requests of this loop waiting for the server, this
        // one waits behind them rather than taking what was freed for them.
        if worker.waiters.count > 0 && worker.waiters.hasWaiters(slot: server.statSlot) {
            waitForConnection()
            return
        }
        if let pooled = withServer({ worker.pool.take(for: $0) }) {
            beginAttempt()
            attach(pooled)
            perform(machine.connectionReady(reused: true))
            return
        }
        openConnectionOrWait()
    }

    /// Counts the attempt on its server and arms its own limit. An attempt begins when it
    /// has a connection or may open one: time spent waiting for one is not an attempt.
    private func beginAttempt() {
        if server.index < 64 { triedServers |= 1 << UInt64(server.index) }
        record.attempts += 1
        if record.upstreamStartedAt == nil { record.upstreamStartedAt = now }
        withServer { worker.attemptStarted(&record, server: $0) }
        armAttemptTimer()
    }

    /// The attempt's own deadline from now, and its timer with `perTryTimeoutMs`.
    private func armAttemptTimer() {
        let perTry = route.retryPolicy.perTryTimeout
        attemptDeadline = RequestDeadline.attemptDeadline(
            request: machine.deadline, attemptStart: now, perTry: perTry)
        if perTry > .zero, let attemptDeadline {
            attemptTimerDue = attemptDeadline
            worker.loop.schedule(attemptTimer, noLaterThan: attemptDeadline)
        }
    }

    /// Opens a new connection to `server` when one of its `maxConnectionsPerServer` is free,
    /// else waits for one in this loop's queue (within `maxPending` for the upstream: beyond
    /// it, 503 `upstream_overloaded`). The request's deadline and idle timeout bound the
    /// wait; the attempt begins when the wait ends.
    private func openConnectionOrWait() {
        if withServer({ $0.state.reserveConnection(limit: upstream.maxConnectionsPerServer) }) {
            if record.serverSlot == nil { beginAttempt() }
            openConnection()
            return
        }
        waitForConnection()
    }

    private func waitForConnection() {
        guard upstream.state.enterPending(limit: upstream.maxPending) else {
            perform(
                machine.noServerAvailable(
                    ProxyError(
                        .upstreamOverloaded,
                        "every connection to \(server.key) is busy and too many requests wait for one")))
            return
        }
        isWaitingForConnection = true
        // A resend waits inside its attempt: its per-try limit starts again with the
        // connection (waiting is not the server's doing).
        attemptTimerDue = nil
        worker.waiters.enqueue(self)
    }

    /// The wait for a connection ended (see `ConnectionWaiters`): with an idle pooled
    /// connection, or nil with one of the server's connections reserved for a new one.
    func connectionAvailable(_ pooled: UpstreamConnection?) {
        holdingClient {
            isWaitingForConnection = false
            upstream.state.leavePending()
            // A resend (a stale pooled connection) waited inside its attempt.
            if record.serverSlot == nil { beginAttempt() } else { armAttemptTimer() }
            if let pooled {
                attach(pooled)
                perform(machine.connectionReady(reused: true))
            } else {
                openConnection()
            }
        }
    }

    /// Leaves the queue of requests waiting for a connection, if the exchange is in it.
    private func stopWaitingForConnection() {
        guard isWaitingForConnection else { return }
        isWaitingForConnection = false
        upstream.state.leavePending()
        worker.waiters.remove(self)
    }

    /// Opens a connection to `server`, one of whose connections was reserved for it.
    private func openConnection() {
        do throws(SystemError) {
            let (fd, progress) = try Socket.startConnect(to: server.address)
            Socket.setNoDelay(fd)
            let fresh = UpstreamConnection(
                fd: fd, worker: worker, server: server, connected: progress == .connected,
                bufferBytes: snapshot.bufferBytes)
            do {
                try worker.loop.register(fd, handler: fresh)
            } catch {
                closeDescriptor(fd)
                throw error
            }
            worker.upstreamOpened()
            attach(fresh)
            if progress == .connected {
                perform(machine.connectionReady(reused: false))
            } else {
                worker.loop.schedule(fresh.timer, at: now + upstream.connectTimeout)
            }
        } catch {
            withServer { worker.connectionSlotReleased($0) }
            upstreamConnectFailed(error.reason)
        }
    }

    private func attach(_ connection: UpstreamConnection) {
        self.connection = connection
        connection.exchange = self
    }

    private func sendRequest(answerContinue: Bool) {
        guard let connection else { return }
        let head = requestHead.bytes
        if let value = timeoutValue, let attemptDeadline, now != record.startedAt || record.attempts > 1 {
            // Later than the head was written (a connect, a retry): say what is left now.
            connection.output.append(UnsafeRawBufferPointer(rebasing: head[..<value.lowerBound]))
            HTTP1Writer.withDigits(
                of: RequestDeadline.millisecondsLeft(until: attemptDeadline, now: now), radix: 10
            ) { connection.output.append($0) }
            connection.output.append(UnsafeRawBufferPointer(rebasing: head[value.upperBound...]))
        } else {
            connection.output.append(head)
        }
        // Another attempt sends what was kept of the body first.
        replay.rewind()
        if replay.hasPending { replay.pump(into: &connection.output) }
        if answerContinue {
            // The gateway answers the expectation itself once it can take the body
            // (RFC 9110 §10.1.1); the upstream never sees `Expect`.
            client.enqueue(Self.continueResponse)
        }
        upstreamReady()
    }

    private static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    // MARK: Upstream events

    func upstreamConnected() {
        holdingClient { perform(machine.connectionReady(reused: false)) }
    }

    func upstreamConnectFailed(_ reason: String) {
        holdingClient {
            attemptFailed(.connectFailed("cannot connect to \(server.key): \(reason)"))
        }
    }

    /// The upstream socket became readable or writable.
    func upstreamReady() {
        holdingClient {
            withClient { client in
                guard let connection, !machine.phase.isOver else { return }
                if machine.phase.isTunnelling {
                    pumpTunnel(client)
                    return
                }
                if !connection.flush() {
                    sendFailed()
                    return
                }
                // The client side relays the body and reads more of it as room appears.
                if !machine.requestBodyDone {
                    client.drive()
                } else if replay.hasPending {
                    pumpRequestBody()
                }
                if !machine.phase.isOver { readResponse() }
            }
        }
    }

    private func sendFailed() {
        attemptFailed(.reset("the upstream connection failed while sending the request"))
    }

    private var now: Instant { worker.loop.instant }

    /// Whether a retry may follow the attempt that ended as `ending`, asked last by the
    /// machine. The attempt is settled with its server's circuit breaker first, so a retry
    /// is not promised when that verdict (or any other) leaves no server to take it; then one
    /// retry is taken from the route's budget, shared by all workers (docs/configuration.md,
    /// `budgetPercent`).
    private func mayRetry(after ending: AttemptEnd) -> Bool {
        recordVerdict(AttemptVerdict(ending))
        guard worker.dispatcher.canTakeRetry(upstream, at: now) else { return false }
        return route.state.retryBudget.tryAcquireRetry(at: now, budgetPercent: route.retryBudgetPercent)
    }

    /// The current attempt failed: the machine decides between a retry, a resend and the end.
    private func attemptFailed(_ failure: AttemptFailure) {
        perform(
            machine.attemptFailed(failure, now: now, policy: route.retryPolicy, mayRetry: mayRetry(after:)))
    }

    // MARK: Request body: client → upstream

    /// Relays request body bytes from the client's input to the upstream, framed anew.
    func pumpRequestBody() {
        // Nothing to send (the usual case of a request without a body): no work at all.
        guard !machine.requestBodyDone || replay.hasPending, let connection, connection.phase == .active
        else {
            if machine.phase.isTunnelling { relayTunnelUp() }
            return
        }
        if replay.hasPending {
            // What another attempt already sent goes out again first, in order.
            replay.pump(into: &connection.output)
            if replay.hasPending {
                if !connection.flush() { sendFailed() }
                return
            }
        }
        guard !machine.requestBodyDone else {
            if !connection.flush() { sendFailed() }
            return
        }
        while true {
            let sentBefore = connection.output.readableCount
            let progress: BodyRelay.Progress
            do {
                progress = try requestBody.relay(from: &client.input, to: &connection.output)
            } catch {
                switch error {
                case .tooLarge:
                    perform(
                        machine.clientBodyFailed(
                            ProxyError(.payloadTooLarge, "the request body is too large")))
                case .malformed(let error):
                    perform(machine.clientBodyFailed(ClientConnection.proxyError(for: error)))
                }
                return
            }
            if progress.consumed {
                let appended = UnsafeRawBufferPointer(rebasing: connection.output.readable[sentBefore...])
                machine.requestBodyStartedFlowing(kept: replay.keep(appended))
            }
            record.bytesIn += progress.dataBytes
            if !connection.flush() {
                sendFailed()
                return
            }
            if requestBody.isComplete {
                perform(machine.requestBodyComplete())
                return
            }
            guard Self.mayRelayAgain(progress, from: client.input, to: connection.output) else { return }
        }
    }

    /// Whether a relay that stopped short should run again at once. The relay leaves room
    /// for framing in its destination, so a full input can keep a tail after the relay; once
    /// the flush emptied the destination no readiness event will come for that tail (the
    /// source was read to its end, the destination never blocked).
    private static func mayRelayAgain(
        _ progress: BodyRelay.Progress, from input: borrowing ByteBuffer, to destination: borrowing ByteBuffer
    ) -> Bool {
        progress.consumed && destination.isEmpty && !input.isEmpty
    }

    // MARK: Response: upstream → client

    private func readResponse() {
        withClient { client in
            guard let connection else { return }
            while !machine.phase.isOver {
                if machine.phase.isResponding {
                    let relayAgain = pumpResponseBody(connection)
                    if !machine.phase.isResponding || responseBody.isComplete { return }
                    if relayAgain { continue }
                } else if machine.phase.isAwaitingHead {
                    if !connection.input.isEmpty, parseResponseHead(connection) { continue }
                    if !machine.phase.isAwaitingHead { return }
                } else {
                    return
                }
                // Backpressure: the client must take what is queued first (a held head
                // too, or nothing would ever send it).
                if client.output.capacity - client.output.readableCount < 1024 && !client.output.isEmpty {
                    releaseHeldHead(client)
                    return
                }
                guard connection.readable else { return }
                switch connection.input.fill(from: connection.fd) {
                case .progressed(let drained):
                    if drained && !connection.hangupSeen { connection.readable = false }
                    client.noteProgress()
                    machine.responseBytesArrived()
                case .wouldBlock:
                    connection.readable = false
                    releaseHeldHead(client)
                    return
                case .bufferFull:
                    // Only a head can fill the buffer (a body is relayed as it comes).
                    attemptFailed(.badResponse("the response header is too large"))
                    return
                case .endOfStream:
                    connection.readable = false
                    releaseHeldHead(client)
                    perform(
                        machine.upstreamEnded(
                            now: now, policy: route.retryPolicy, mayRetry: mayRetry(after:)))
                    return
                case .failed(let error):
                    connection.readable = false
                    attemptFailed(.reset("the upstream connection failed: \(error.reason)"))
                    return
                }
            }
        }
    }

    /// Sends a response head held back for its body (see `ResponsePlan.holdForBody`).
    private func releaseHeldHead(_ client: ClientConnection) {
        if machine.isHoldingResponseHead { client.flush() }
    }

    /// Parses a response head; true when one (interim or final) was consumed and reading goes on.
    private func parseResponseHead(_ connection: UpstreamConnection) -> Bool {
        withClient { client in
            let result: HeadParseResult<ResponseHead>
            do {
                result = try responseParser.parse(
                    connection.input.readable, fieldStorage: &worker.fieldStorage)
            } catch {
                attemptFailed(.badResponse("the upstream sent a malformed response"))
                return false
            }
            guard case .complete(let head) = result else { return false }
            if head.isInformational {
                let action = machine.interimResponseReceived(
                    status: head.status, now: now, policy: route.retryPolicy, mayRetry: mayRetry(after:))
                switch action {
                case .forwardInterim:
                    worker.responseHeadWriter.reset()
                    ResponseHeadWriter.writeInterim(
                        head, from: connection.input.readable, into: &worker.responseHeadWriter)
                    client.enqueue(worker.responseHeadWriter.bytes)
                case .dropInterim:
                    break
                case .openTunnel:
                    openTunnel(head, connection, client)
                    return false
                default:
                    perform(action)
                    return false
                }
                connection.input.consume(head.headLength)
                responseParser.reset()
                return true
            }
            var response = ExchangeResponse(
                status: head.status, framing: head.framing(requestMethod: requestMethod),
                upstreamKeepsAlive: head.isKeepAlive)
            if (head.status == 503 || head.status == 429) && route.retryPolicy.maxRetries > 0 {
                response.retryAfter = Self.retryAfter(head, connection.input.readable)
            }
            let action = machine.responseHeadReceived(
                response, bodyBuffered: connection.input.readableCount > head.headLength,
                lastRequestOfDrain: client.isLastRequestOfDrain, now: now, policy: route.retryPolicy,
                mayRetry: mayRetry(after:))
            guard case .forwardResponseHead(let plan) = action else {
                perform(action)
                return false
            }
            record.status = head.status
            record.upstreamHeadAt = now
            recordVerdict(AttemptVerdict(status: head.status))
            responseBody.reset(framing: response.framing, output: plan.framing == .chunked ? .chunked : .raw)
            worker.responseHeadWriter.reset()
            ResponseHeadWriter.writeFinal(
                head, from: connection.input.readable, plan: plan, exchange: self,
                into: &worker.responseHeadWriter)
            connection.input.consume(head.headLength)
            clientBytesBeforeHead = client.queuedOutputCount
            // Not flushed yet: the body that is already buffered goes out in the same write.
            client.enqueue(worker.responseHeadWriter.bytes, flush: false)
            // The speculative read that decides whether a held head waits for its body.
            if plan.holdForBody { connection.readable = true }
            return true
        }
    }

    /// Relays buffered response body bytes to the client; true when it should run again at
    /// once (see `mayRelayAgain`).
    @discardableResult
    private func pumpResponseBody(_ connection: UpstreamConnection) -> Bool {
        withClient { client in
            // Part of the head still waits behind the client's buffer: body bytes appended
            // now would overtake it.
            if client.hasOverflow {
                guard client.flush(), !client.hasOverflow else { return false }
            }
            let progress: BodyRelay.Progress
            do {
                progress = try responseBody.relay(from: &connection.input, to: &client.output)
            } catch {
                attemptFailed(.badResponse("the upstream sent a malformed body"))
                return false
            }
            record.bytesOut += progress.dataBytes
            // A held head waits for the speculative read unless body bytes came.
            if machine.isHoldingResponseHead && !progress.consumed && !responseBody.isComplete {
                return false
            }
            guard client.flush() else { return false }
            if responseBody.isComplete {
                perform(machine.responseBodyComplete())
                return false
            }
            return Self.mayRelayAgain(progress, from: connection.input, to: client.output)
        }
    }

    /// The client can take more response bytes.
    func clientWritable() {
        guard let connection, !machine.phase.isOver else { return }
        if machine.phase.isTunnelling {
            withClient { relayTunnelDown(connection, $0) }
            return
        }
        if machine.phase.isResponding { pumpResponseBody(connection) }
        // While awaiting a head too: reading stopped for backpressure (forwarded interim
        // responses, or the previous response's tail on this connection).
        if !machine.phase.isOver && (machine.phase.isAwaitingHead || !responseBody.isComplete) {
            readResponse()
        }
    }

    /// Bytes of the client's output were written to its socket: a queued response head is
    /// on its way and can no longer be withdrawn.
    func clientOutputSent() {
        machine.responseHeadSent()
    }

    // MARK: Tunnel (WebSocket): bytes both ways after a 101

    /// The upstream switched protocols for a WebSocket request: the client gets the 101,
    /// and from then on the connections carry each other's bytes until one closes or
    /// neither moves for idleMs (docs/configuration.md, "WebSocket"). The request's
    /// deadline no longer applies.
    private func openTunnel(
        _ head: ResponseHead, _ connection: UpstreamConnection, _ client: ClientConnection
    ) {
        client.disarmDeadline()
        record.status = head.status
        record.upstreamHeadAt = now
        endAttempt(failed: false, verdict: .success)
        worker.responseHeadWriter.reset()
        ResponseHeadWriter.writeSwitchingProtocols(
            head, from: connection.input.readable, exchange: self, into: &worker.responseHeadWriter)
        connection.input.consume(head.headLength)
        client.enqueue(worker.responseHeadWriter.bytes)
        // Either side may have sent bytes of the new protocol already.
        pumpTunnel(client)
    }

    private func pumpTunnel(_ client: ClientConnection) {
        guard let connection, machine.phase.isTunnelling else { return }
        relayTunnelDown(connection, client)
        // The client side reads, and relays through `relayTunnelUp`.
        if machine.phase.isTunnelling { client.drive() }
    }

    /// Client → upstream: what the client connection read (it reads while its input has
    /// room). Flushes first, so an upstream EPOLLOUT always makes room before bytes move,
    /// and goes on while the upstream takes everything: no readiness event would come for
    /// bytes left behind then. Once the client has ended its side and all of it went out,
    /// the upstream gets the end too.
    private func relayTunnelUp() {
        guard let connection else { return }
        withClient { client in
            while true {
                guard connection.flush() else {
                    attemptFailed(.reset("the upstream connection failed in the tunnel"))
                    return
                }
                let moved = client.input.moveReadable(to: &connection.output)
                record.bytesIn += moved
                guard connection.flush() else {
                    attemptFailed(.reset("the upstream connection failed in the tunnel"))
                    return
                }
                if moved == 0 || !connection.output.isEmpty || client.input.isEmpty { break }
            }
            if clientEndedTunnel && !upstreamWriteShut && client.input.isEmpty && connection.output.isEmpty {
                upstreamWriteShut = true
                shutdown(connection.fd, Int32(SHUT_WR))
            }
        }
    }

    /// Upstream → client, reading the upstream while the client takes what it sends.
    private func relayTunnelDown(_ connection: UpstreamConnection, _ client: ClientConnection) {
        while machine.phase.isTunnelling {
            if client.hasOverflow {
                guard client.flush(), !client.hasOverflow else { return }
            }
            if !connection.input.isEmpty {
                record.bytesOut += connection.input.moveReadable(to: &client.output)
                guard client.flush() else { return }
                if !connection.input.isEmpty {
                    // The client took all it was given: give it the rest (the buffers may
                    // differ in size). Else the rest waits for its EPOLLOUT (`clientWritable`).
                    if client.output.isEmpty { continue }
                    return
                }
            }
            guard connection.readable else { return }
            switch connection.input.fill(from: connection.fd) {
            case .progressed(let drained):
                if drained && !connection.hangupSeen { connection.readable = false }
                client.noteProgress()
            case .wouldBlock:
                connection.readable = false
                return
            case .bufferFull:
                return
            case .endOfStream:
                connection.readable = false
                upstreamEndedTunnel = true
                perform(
                    machine.upstreamEnded(now: now, policy: route.retryPolicy, mayRetry: mayRetry(after:)))
                return
            case .failed(let error):
                connection.readable = false
                attemptFailed(.reset("the upstream connection failed in the tunnel: \(error.reason)"))
                return
            }
        }
    }

    // MARK: Client and timer events

    func clientGone() {
        // A tunnel's client that ended its side (FIN) may still read: what it sent goes to
        // the upstream, which gets the end too, and the tunnel ends when the upstream ends
        // its side or idleMs passes (a half-close, as TCP carries it).
        if machine.phase.isTunnelling && !clientEndedTunnel,
            withClient({ $0.finishedSending && $0.phase != .closed })
        {
            clientEndedTunnel = true
            relayTunnelUp()
            return
        }
        perform(machine.clientGone())
    }

    /// No progress on either connection for idleMs.
    func idleTimeout() {
        if isWaitingForConnection {
            gaveUpWaitingForConnection("within the idle timeout")
            return
        }
        perform(machine.idleTimeout(upstreamBackedUp: upstreamBackedUp))
    }

    /// The request's deadline passed.
    func deadlinePassed() {
        if isWaitingForConnection {
            gaveUpWaitingForConnection("before the request deadline")
            return
        }
        perform(machine.deadlineExpired(upstreamBackedUp: upstreamBackedUp))
    }

    /// A request that waited in vain for a connection gets 504: no server failed it (the
    /// circuit breaker hears nothing of it), its server was busy.
    private func gaveUpWaitingForConnection(_ when: String) {
        stopWaitingForConnection()
        recordVerdict(.inconclusive)
        perform(
            machine.noServerAvailable(
                ProxyError(.deadlineExceeded, "no connection to \(server.key) became free \(when)")))
    }

    /// Request bytes wait in the upstream connection's buffer: the upstream is not taking
    /// them (when the buffer is empty the request went out as far as the client sent it).
    private var upstreamBackedUp: Bool {
        guard let connection else { return false }
        return !connection.output.isEmpty
    }

    func timerFired(_ timer: LoopTimer) {
        if timer.tag == TimerTag.attempt {
            // Checked first: the timer may fire for an attempt long over, even while the
            // exchange waits retired for its next request (and has no client).
            guard let due = attemptTimerDue else { return }
            if now < due {
                worker.loop.schedule(attemptTimer, noLaterThan: due)
                return
            }
            attemptTimerDue = nil
        }
        holdingClient {
            switch timer.tag {
            case TimerTag.attempt:
                perform(
                    machine.perTryTimeoutExpired(
                        upstreamBackedUp: upstreamBackedUp, now: now, policy: route.retryPolicy,
                        mayRetry: mayRetry(after:)))
            default: perform(machine.backoffElapsed())
            }
        }
    }

    // MARK: Performing the machine's actions

    private func perform(_ action: ExchangeStateMachine.Action) {
        switch action {
        case .none:
            return
        case .connect(let pickServer):
            connect(pickServer: pickServer)
        case .resendOnNewConnection:
            // The pooled connection was stale (its peer had closed it): not the request's
            // fault, so the same attempt goes out again on a new connection.
            worker.staleConnectionReused(server)
            closeUpstream(reset: true)
            openConnectionOrWait()
        case .sendRequest(let answerContinue):
            sendRequest(answerContinue: answerContinue)
        case .forwardInterim, .dropInterim, .forwardResponseHead:
            preconditionFailure("performed where the response head is parsed")
        case .endCloseDelimitedBody:
            responseBody.sourceEnded()
            if let connection { pumpResponseBody(connection) }
        case .complete(let reuseUpstream, let closeClient):
            withClient { client in
                client.disarmDeadline()
                endAttempt(failed: false, verdict: .success)
                if let connection {
                    self.connection = nil
                    // A body replay not sent in full leaves the connection mid-message.
                    if reuseUpstream && !replay.hasPending {
                        // A pool at its idle cap still keeps the connection when a request of
                        // this loop waits for one to its server (it takes it next iteration).
                        let waitedFor =
                            worker.waiters.count > 0
                            && worker.waiters.hasWaiters(slot: connection.server.statSlot)
                        let pooled = worker.pool.put(
                            connection, maxIdle: waitedFor ? .max : upstream.maxIdlePerServer,
                            idleTimeout: upstream.idleTimeout)
                        // Requests wait for a connection to this server (rare: at its limit).
                        // (One the pool closed instead has told them already.)
                        if pooled && connection.server.state.waiting.load(ordering: .relaxed) > 0 {
                            worker.waiters.connectionPooled(slot: connection.server.statSlot)
                        }
                    } else {
                        connection.close()
                    }
                }
                finishRecord(status: record.status, error: nil)
                client.exchangeEnded(close: closeClient)
            }
            retire()
        case .respond(let error, let closeClient, let withdrawHead, let upstreamFailed):
            withClient { client in
                client.disarmDeadline()
                if withdrawHead { client.withdrawOutput(keeping: clientBytesBeforeHead) }
                endAttempt(failed: upstreamFailed, verdict: upstreamFailed ? .failure : .inconclusive)
                closeUpstream(reset: true)
                // What the client got is the error's body (a withdrawn head's body never left).
                let context = RequestContext(
                    version: machine.request.clientIsHTTP11 ? .http11 : .http10, method: requestMethod,
                    keepAlive: machine.request.clientKeepAlive, requestID: record.requestID,
                    rateLimitFields: rateLimitDecision.flatMap { route.rateLimit?.fieldBytes($0) })
                record.bytesOut = client.exchangeFailed(error, context: context, close: closeClient)
                finishRecord(status: error.status, error: error)
            }
            retire()
        case .abort(let upstreamFailed):
            withClient { client in
                client.disarmDeadline()
                endAttempt(failed: upstreamFailed, verdict: upstreamFailed ? .failure : .inconclusive)
                closeUpstream(reset: true)
                finishRecord(status: record.status, error: nil)
                client.exchangeAborted()
            }
            retire()
        case .cancel:
            withClient { client in
                client.disarmDeadline()
                endAttempt(failed: false, verdict: .inconclusive)
                closeUpstream(reset: true)
                record.cancelled = true
                finishRecord(status: 499, error: nil)
                client.exchangeAborted()
            }
            retire()
        case .retry(let delay, let ending):
            worker.retried(route)
            endAttempt(failed: ending.countsAsFailure, verdict: AttemptVerdict(ending))
            closeUpstream(reset: true)
            if delay <= .zero {
                perform(machine.backoffElapsed())
            } else {
                worker.loop.schedule(backoffTimer, at: now + delay)
                // Waiting is not idleness: the idle timeout counts from the wait's end.
                withClient { $0.armTimeout(after: delay + snapshot.config.timeouts.idle) }
            }
        case .openTunnel:
            preconditionFailure("performed where the 101 is parsed")
        case .closeTunnel:
            withClient { client in
                endAttempt(failed: false, verdict: .success)
                closeUpstream(reset: false)
                finishRecord(status: record.status, error: nil)
                if upstreamEndedTunnel {
                    // What the upstream sent last still reaches the client, then it closes.
                    client.exchangeEnded(close: true)
                } else {
                    // Idle, or a side failed: nothing is waited for.
                    client.exchangeAborted()
                }
            }
            retire()
        }
    }

    /// The wait a 503 or 429 asks for (`Retry-After`), if it says one.
    private static func retryAfter(_ head: ResponseHead, _ bytes: UnsafeRawBufferPointer) -> TimeSpan? {
        for field in head.fields
        where FieldList.equalsIgnoringCase(field.name.bytes(in: bytes), "retry-after") {
            let seconds = RetryAfter.seconds(field.value.bytes(in: bytes), nowEpochSeconds: Int64(time(nil)))
            return seconds.map { .seconds(Int($0)) }
        }
        return nil
    }

    /// Reports the current attempt's verdict to its server's circuit breaker, once (a
    /// response head already settled it).
    private func recordVerdict(_ verdict: AttemptVerdict) {
        guard let admission = breakerAdmission else { return }
        breakerAdmission = nil
        let now = self.now
        withServer { $0.state.breaker.record(verdict, of: admission, at: now, upstream.circuitBreaker) }
    }

    /// Counts the end of the attempt in progress for its server, if one is in progress.
    private func endAttempt(failed: Bool, verdict: AttemptVerdict) {
        stopWaitingForConnection()
        recordVerdict(verdict)
        attemptTimerDue = nil
        worker.attemptEnded(&record, failed: failed)
    }

    private func closeUpstream(reset: Bool) {
        guard let connection else { return }
        self.connection = nil
        connection.close(reset: reset)
    }

    private func finishRecord(status: Int, error: ProxyError?) {
        attemptTimerDue = nil
        if backoffTimer.isScheduled { worker.loop.cancel(backoffTimer) }
        record.status = status
        record.errorKind = error?.kind
        worker.recordExchange(record)
    }

    /// Hands the exchange back for another request; nothing refers to it any more.
    private func retire() {
        worker.dispatcher.retire(self)
    }
}

// Queries on the machine's phase, defined here so they inline: the phase is a stored
// property read in place, where a query method of the machine, called across the module
// boundary, would take the whole machine by value on every read of a response.
extension ExchangeStateMachine.Phase {
    fileprivate var isOver: Bool {
        if case .finished = self { return true }
        return false
    }

    fileprivate var isResponding: Bool {
        if case .responding = self { return true }
        return false
    }

    fileprivate var isAwaitingHead: Bool {
        if case .awaitingHead = self { return true }
        return false
    }

    fileprivate var isTunnelling: Bool {
        if case .tunnelling = self { return true }
        return false
    }
}
