/// The whole state of one proxied request, and every decision about it: events in, actions
/// out (docs/architecture.md, "The exchange state machine").
///
/// The runtime reports what happened on the sockets and timers and performs the action it
/// gets back; it keeps no state of the exchange beside this value and decides nothing itself.
/// Every way an exchange ends — completed, failed with a gateway error, truncated after the
/// head went out, cancelled by the client — is an edge here with its own outcome, so each is
/// visible and tested without sockets. Late and repeated events (a timer that fires after
/// the end, a second close) return `.none`.
///
/// Attempts: a failed attempt may be followed by another (a retry after a backoff wait, on a
/// server not tried yet, when the policy allows it and the deadline leaves room), and a
/// request that fails on a reused pooled connection before any response byte arrived is
/// sent once more on a new connection to the same server: the connection was stale, which
/// is not the request's fault, so that is not a retry (`.resendOnNewConnection`).
package struct ExchangeStateMachine: Sendable {
    package enum Phase: Sendable, Equatable {
        /// Waiting for a connection (pooled or new) for the current attempt.
        case connecting
        /// The request is going out; no final response head yet.
        case awaitingHead
        /// Between a failed attempt and the next one.
        case backingOff
        /// A final response head was accepted; its body flows to the client.
        case responding
        /// The upstream switched protocols: bytes flow both ways unparsed.
        case tunnelling
        case finished(Outcome)
    }

    package enum Outcome: Sendable, Equatable {
        /// The upstream's response reached the client whole (or a tunnel ended).
        case completed
        /// The client got a gateway-made error instead of an upstream response.
        case failed(ProxyError.Kind)
        /// The response was cut off after its head went out; the client connection closed.
        case truncated
        /// The client went away first (logged as 499).
        case cancelled
    }

    package enum Action: Sendable, Equatable {
        case none
        /// Get a connection for the current attempt: a pooled one if there is one, else a new
        /// one. `pickServer`: choose the server again, preferring one not tried yet (a retry);
        /// otherwise use the server the request was dispatched to.
        case connect(pickServer: Bool)
        /// Close the failed (stale) connection and open a new one to the same server; count it
        /// as a stale reuse, not as a retry or a failure.
        case resendOnNewConnection
        /// Write the request head on the ready connection (after an `Expect: 100-continue`,
        /// answer the client's expectation first when `answerContinue`), then relay the body
        /// and read the response.
        case sendRequest(answerContinue: Bool)
        /// Forward a 1xx interim response to the client, or drop it.
        case forwardInterim
        case dropInterim
        /// Write the final response head as planned, then relay the body.
        case forwardResponseHead(ResponsePlan)
        /// The upstream closed: for a body framed by the close, that is its end. Terminate the
        /// client's framing, then report `responseBodyComplete()`.
        case endCloseDelimitedBody
        /// Done: pool the upstream connection when `reuseUpstream` (else close it); the client
        /// connection closes after the response when `closeClient`.
        case complete(reuseUpstream: Bool, closeClient: Bool)
        /// Close the upstream connection and answer the client with a gateway error; a response
        /// head queued but not yet sent to the client is withdrawn first when `withdrawHead`.
        /// `upstreamFailed`: the upstream caused it (counted among its failures, and by its
        /// circuit breaker); otherwise the client or the gateway's own limits did.
        case respond(ProxyError, closeClient: Bool, withdrawHead: Bool, upstreamFailed: Bool)
        /// Close both connections: the client got part of a response and must not take it as
        /// whole. `upstreamFailed`: the upstream caused it (counted among its failures).
        case abort(upstreamFailed: Bool)
        /// The client left: reset the upstream connection at once.
        case cancel
        /// The attempt failed and another follows: close (reset) its connection, count how
        /// the attempt ended (`ending`), wait `after`, then report `backoffElapsed()`.
        case retry(after: TimeSpan, ending: AttemptEnd)
        /// The upstream accepted the upgrade: relay bytes both ways until either side closes.
        case openTunnel
        /// The tunnel ended: close both connections.
        case closeTunnel
    }

    package let request: ExchangeRequest
    /// The request's deadline, if it has one.
    package let deadline: Instant?
    private var random: UInt64

    package private(set) var phase: Phase = .connecting
    /// Attempts begun, the current one included (a resend on a new connection is the same attempt).
    package private(set) var attempt = 1
    /// The current attempt runs on a connection taken from the pool.
    private var connectionReused = false
    /// A byte of a response arrived on the current attempt.
    private var responseStarted = false
    private var resentOnNewConnection = false
    private var continueAnswered = false
    /// A byte of the request body left the client's input.
    private var requestBodyStarted = false
    /// Every body byte that left the client's input is kept, so the body can be sent again.
    private var requestBodyKept = true
    package private(set) var requestBodyDone: Bool
    private var responseDone = false
    /// The response head is queued for the client but no byte of it was written yet.
    private var responseHeadPending = false
    /// …and its flush waits for one more read of the upstream (see `ResponsePlan.holdForBody`).
    package private(set) var isHoldingResponseHead = false
    private var upstreamReusable = false
    private var responseEndsAtClose = false
    /// The client connection stays open for another request after this one.
    private var keepClient: Bool

    package init(
        request: ExchangeRequest, deadline: Instant? = nil, seed: UInt64 = 0
    ) {
        self.request = request
        self.deadline = deadline
        self.random = seed
        self.requestBodyDone = !request.hasBody
        self.keepClient = request.clientKeepAlive
    }

    // MARK: Connecting and sending

    package var isFinished: Bool {
        if case .finished = phase { return true }
        return false
    }

    package mutating func start() -> Action {
        // Phases are compared by pattern throughout: the derived `==` is a call per check.
        if case .connecting = phase { return .connect(pickServer: false) }
        return .none
    }

    /// No server can take the attempt (every remaining one's circuit is open): the request
    /// ends with `error`.
    package mutating func noServerAvailable(_ error: ProxyError) -> Action {
        guard case .connecting = phase else { return .none }
        return fail(error, upstreamFailed: false)
    }

    package mutating func connectionReady(reused: Bool) -> Action {
        guard case .connecting = phase else { return .none }
        phase = .awaitingHead
        connectionReused = reused
        responseStarted = false
        let answer =
            request.expectsContinue && request.clientIsHTTP11 && !continueAnswered && !requestBodyDone
        if answer { continueAnswered = true }
        return .sendRequest(answerContinue: answer)
    }

    /// Request body bytes left the client's input for the upstream; `kept` when the shell
    /// kept them (with all before them) to send again on another attempt.
    package mutating func requestBodyStartedFlowing(kept: Bool) {
        requestBodyStarted = true
        if !kept { requestBodyKept = false }
    }

    package mutating func requestBodyComplete() -> Action {
        guard !requestBodyDone else { return .none }
        requestBodyStarted = true
        requestBodyDone = true
        if case .responding = phase, responseDone { return finish() }
        return .none
    }

    // MARK: Response

    /// Bytes of a response arrived on the current attempt.
    package mutating func responseBytesArrived() {
        if case .awaitingHead = phase { responseStarted = true }
    }

    package mutating func interimResponseReceived(
        status: Int, now: Instant, policy: RetryPolicy, mayRetry: (AttemptEnd) -> Bool = { _ in true }
    ) -> Action {
        guard case .awaitingHead = phase else { return .none }
        responseStarted = true
        if status == 101 {
            guard request.wantsUpgrade else {
                return attemptFailed(
                    .badResponse("the upstream switched protocols without an upgrade request"), now: now,
                    policy: policy, mayRetry: mayRetry)
            }
            phase = .tunnelling
            keepClient = false
            return .openTunnel
        }
        // A 100 answers the expectation the gateway already answered itself; other 1xx
        // (e.g. 103 Early Hints) reach HTTP/1.1 clients only (RFC 9110 §15.2).
        return status != 100 && request.clientIsHTTP11 ? .forwardInterim : .dropInterim
    }

    /// A final response head arrived. `bodyBuffered`: body bytes came with it.
    /// `lastRequestOfDrain`: the gateway is draining and no other request waits on this
    /// client connection, so this response is its last.
    package mutating func responseHeadReceived(
        _ response: ExchangeResponse, bodyBuffered: Bool, lastRequestOfDrain: Bool, now: Instant,
        policy: RetryPolicy, mayRetry: (AttemptEnd) -> Bool = { _ in true }
    ) -> Action {
        guard case .awaitingHead = phase else { return .none }
        responseStarted = true
        let serverAskedToWait = (response.status == 503 || response.status == 429) ? response.retryAfter : nil
        if policy.allowsRetry(afterStatus: response.status, idempotent: request.isIdempotent),
            let retry = retryIfPossible(
                ending: .answered(status: response.status), now: now, policy: policy,
                waiting: serverAskedToWait,
                mayRetry: mayRetry)
        {
            return retry
        }
        phase = .responding
        let framing: ClientFraming
        switch response.framing {
        case .none: framing = .none
        case .contentLength: framing = .contentLength
        case .chunked, .untilClose: framing = request.clientIsHTTP11 ? .chunked : .closeDelimited
        }
        upstreamReusable = response.upstreamKeepsAlive && response.framing != .untilClose
        responseEndsAtClose = response.framing == .untilClose
        // An early answer leaves the rest of the request body unread, so the client
        // connection cannot carry another request.
        if framing == .closeDelimited || !requestBodyDone || lastRequestOfDrain { keepClient = false }
        responseHeadPending = true
        isHoldingResponseHead = !bodyBuffered && !response.framing.isEmpty
        return .forwardResponseHead(
            ResponsePlan(framing: framing, closeClient: !keepClient, holdForBody: isHoldingResponseHead))
    }

    /// The shell began writing the queued response head to the client: from now on a
    /// failure can only cut the response short.
    package mutating func responseHeadSent() {
        responseHeadPending = false
        isHoldingResponseHead = false
    }

    package mutating func responseBodyComplete() -> Action {
        guard case .responding = phase, !responseDone else { return .none }
        responseDone = true
        if requestBodyDone || !keepClient { return finish() }
        return .none
    }

    /// The upstream closed its side.
    package mutating func upstreamEnded(
        now: Instant, policy: RetryPolicy, mayRetry: (AttemptEnd) -> Bool = { _ in true }
    ) -> Action {
        switch phase {
        case .responding where responseEndsAtClose && !responseDone:
            return .endCloseDelimitedBody
        case .tunnelling:
            return closeTunnel()
        default:
            return attemptFailed(
                .reset("the upstream closed the connection before the response was complete"), now: now,
                policy: policy, mayRetry: mayRetry)
        }
    }

    // MARK: Failures and timers

    package mutating func attemptFailed(
        _ failure: AttemptFailure, now: Instant, policy: RetryPolicy,
        mayRetry: (AttemptEnd) -> Bool = { _ in true }
    ) -> Action {
        attemptFailed(failure, blamesUpstream: true, now: now, policy: policy, mayRetry: mayRetry)
    }

    /// `blamesUpstream` false: the attempt's end says nothing about its server (it timed out
    /// while the client was still sending the body).
    private mutating func attemptFailed(
        _ failure: AttemptFailure, blamesUpstream: Bool, now: Instant, policy: RetryPolicy,
        mayRetry: (AttemptEnd) -> Bool
    ) -> Action {
        switch phase {
        case .connecting, .awaitingHead:
            if case .reset = failure, canResendOnNewConnection {
                resentOnNewConnection = true
                phase = .connecting
                return .resendOnNewConnection
            }
            if policy.allowsRetry(after: failure, idempotent: request.isIdempotent),
                let retry = retryIfPossible(
                    ending: blamesUpstream ? .upstreamFailed : .inconclusive, now: now, policy: policy,
                    mayRetry: mayRetry)
            {
                return retry
            }
            return fail(failure.error, upstreamFailed: blamesUpstream)
        case .responding:
            return failResponse(failure.error)
        case .tunnelling:
            return closeTunnel()
        case .backingOff, .finished:
            return .none
        }
    }

    /// The attempt's own time limit passed (`perTryTimeoutMs`). `upstreamBackedUp`: request
    /// bytes wait for the upstream to take them (see `isWaitingOnClient`).
    package mutating func perTryTimeoutExpired(
        upstreamBackedUp: Bool, now: Instant, policy: RetryPolicy,
        mayRetry: (AttemptEnd) -> Bool = { _ in true }
    ) -> Action {
        switch phase {
        case .connecting, .awaitingHead: break
        default: return .none
        }
        return attemptFailed(
            .perTryTimeout, blamesUpstream: !isWaitingOnClient(upstreamBackedUp: upstreamBackedUp), now: now,
            policy: policy, mayRetry: mayRetry)
    }

    package mutating func backoffElapsed() -> Action {
        guard case .backingOff = phase else { return .none }
        phase = .connecting
        // A new attempt: its pooled connection may be stale too.
        resentOnNewConnection = false
        return .connect(pickServer: true)
    }

    /// The request's deadline passed (docs/configuration.md, `timeoutMs`). `upstreamBackedUp`:
    /// request bytes wait for the upstream to take them.
    package mutating func deadlineExpired(upstreamBackedUp: Bool) -> Action {
        let error = ProxyError(.deadlineExceeded, "the request deadline passed before a response arrived")
        switch phase {
        case .connecting, .awaitingHead, .backingOff:
            return fail(error, upstreamFailed: !isWaitingOnClient(upstreamBackedUp: upstreamBackedUp))
        case .responding:
            return failResponse(error)
        case .tunnelling, .finished:
            return .none
        }
    }

    /// Nothing moved on either connection for `idleMs`. `upstreamBackedUp`: request bytes
    /// wait for the upstream to take them, so the stall is the upstream's, not the client's.
    package mutating func idleTimeout(upstreamBackedUp: Bool) -> Action {
        switch phase {
        case .connecting, .awaitingHead, .backingOff:
            if isWaitingOnClient(upstreamBackedUp: upstreamBackedUp) {
                return clientBodyFailed(
                    ProxyError(.requestTimeout, "the request body was not received in time"))
            }
            let stall =
                requestBodyDone
                ? "the upstream sent nothing" : "the upstream stopped reading the request body"
            return fail(ProxyError(.deadlineExceeded, "\(stall) for the idle timeout"), upstreamFailed: true)
        case .responding:
            return failResponse(ProxyError(.deadlineExceeded, "the response stalled for the idle timeout"))
        case .tunnelling:
            return closeTunnel()
        case .finished:
            return .none
        }
    }

    /// The client's request body is malformed, too large or too slow: the client gets the
    /// error (its connection cannot be trusted any further), or is cut off when a response
    /// is already on its way.
    package mutating func clientBodyFailed(_ error: ProxyError) -> Action {
        switch phase {
        case .connecting, .awaitingHead, .backingOff:
            phase = .finished(.failed(error.kind))
            return .respond(error, closeClient: true, withdrawHead: false, upstreamFailed: false)
        case .responding:
            keepClient = false
            return failResponse(error)
        case .tunnelling, .finished:
            return .none
        }
    }

    package mutating func clientGone() -> Action {
        switch phase {
        case .finished:
            return .none
        case .tunnelling:
            return closeTunnel()
        default:
            phase = .finished(.cancelled)
            return .cancel
        }
    }

    // MARK: Edges

    /// The attempt waits for the client's body, not for the upstream: the request is sent
    /// as far as it arrived, and the upstream took all of it.
    private func isWaitingOnClient(upstreamBackedUp: Bool) -> Bool {
        guard case .awaitingHead = phase else { return false }
        return !requestBodyDone && !upstreamBackedUp
    }

    private var canResendOnNewConnection: Bool {
        connectionReused && !responseStarted && !resentOnNewConnection
            && (request.isIdempotent || !requestBodyStarted) && isBodyReplayable
    }

    /// The body can be sent again: none of it left the client's input yet, or all of it that
    /// did was kept.
    private var isBodyReplayable: Bool { !request.hasBody || !requestBodyStarted || requestBodyKept }

    /// A retry when one is left, the body can be sent again, the wait ends before the
    /// deadline, and the shell agrees (`mayRetry`, asked last with how the attempt ended: it
    /// settles the attempt with its server's circuit breaker, checks that some server can
    /// take a retry, and takes one from the route's budget); nil otherwise (the caller ends
    /// with the attempt's own outcome). The wait is the policy's backoff, or what the server
    /// asked for (`waiting`, even beyond the backoff's maximum; without a deadline, up to the
    /// policy's `longestRequestedWait`).
    private mutating func retryIfPossible(
        ending: AttemptEnd, now: Instant, policy: RetryPolicy, waiting: TimeSpan? = nil,
        mayRetry: (AttemptEnd) -> Bool
    ) -> Action? {
        guard attempt <= policy.maxRetries, isBodyReplayable else { return nil }
        let delay = waiting ?? policy.backoff(beforeRetry: attempt, random: nextRandom())
        if let deadline {
            if now + delay >= deadline { return nil }
        } else if let waiting, let longest = policy.longestRequestedWait, waiting > longest {
            return nil
        }
        // Last, so the budget shared by all workers is spent only on retries that happen.
        guard mayRetry(ending) else { return nil }
        attempt += 1
        phase = .backingOff
        return .retry(after: delay, ending: ending)
    }

    private mutating func finish() -> Action {
        phase = .finished(.completed)
        return .complete(reuseUpstream: upstreamReusable && requestBodyDone, closeClient: !keepClient)
    }

    /// Ends with a gateway error before any response; `upstreamFailed` as for `.respond`.
    private mutating func fail(_ error: ProxyError, upstreamFailed: Bool) -> Action {
        phase = .finished(.failed(error.kind))
        let close = error.closesClientConnection || !keepClient || !requestBodyDone
        return .respond(
            error, closeClient: close, withdrawHead: false,
            upstreamFailed: upstreamFailed && error.isUpstreamFailure)
    }

    /// A failure after the response head was accepted: while no byte of the head went to the
    /// client it can still be replaced by a gateway error; after that, only cut short.
    private mutating func failResponse(_ error: ProxyError) -> Action {
        guard responseHeadPending else {
            phase = .finished(.truncated)
            return .abort(upstreamFailed: error.isUpstreamFailure)
        }
        phase = .finished(.failed(error.kind))
        let close = error.closesClientConnection || !keepClient || !requestBodyDone
        return .respond(
            error, closeClient: close, withdrawHead: true, upstreamFailed: error.isUpstreamFailure)
    }

    private mutating func closeTunnel() -> Action {
        phase = .finished(.completed)
        return .closeTunnel
    }

    /// SplitMix64: the backoff jitter, reproducible from the seed.
    private mutating func nextRandom() -> UInt64 {
        random &+= 0x9E37_79B9_7F4A_7C15
        var z = random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
