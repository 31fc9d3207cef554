import Gateway
import Reactor
import Synchronization

/// One route's cluster-wide rate limit in this process (docs/configuration.md, "Cluster
/// rate limits"): leased tokens decide most requests at once; a request that needs Redis
/// is parked, its loop sends the script call on its own `RedisConnection`, and the answer
/// resumes it (and any request of the same key parked behind it, on whichever loop).
/// While Redis fails, the route's `ClusterFallback` decides. Shared by every worker.
final class ClusterRateLimiter: Sendable {
    /// What a request gets.
    enum Verdict: Sendable, Equatable {
        /// The limiter decided (admitted or 429), with the RateLimit numbers.
        case decided(RateLimitDecision)
        /// `onBackendError: closed` while Redis fails: 503 with this `Retry-After`.
        case unavailable(retryAfterSeconds: UInt64)
    }

    /// A parked request, resumed on its own loop.
    struct Waiter: @unchecked Sendable {
        // @unchecked Sendable: `resume` is only ever called on `loop`, through its task queue.
        let loop: EventLoop
        /// The request's own bucket key, which the local fallback decides on.
        let key: UInt64
        let resume: (Verdict) -> Void

        /// Always through the task queue, even on the same loop: an answer can arrive while
        /// `decide` is still running (a call that fails at once), and the caller must have
        /// parked the request before it is resumed. Only parked requests pay for it.
        func deliver(_ verdict: Verdict) {
            let waiter = self
            loop.execute { waiter.resume(verdict) }
        }
    }

    let route: String
    let gcra: GCRA
    let backend: ClusterBackend
    let fallback: ClusterFallback
    let leases: ClusterLeaseTable<Waiter>
    /// Decisions by result, in `StatsReport.ClusterRoute`'s order: admitted, refused,
    /// fallback admitted, fallback refused, unavailable.
    private let decisions: InlineArray<5, Atomic<UInt64>> = InlineArray { _ in Atomic(0) }

    /// What `/stats` shows of this route.
    var report: StatsReport.ClusterRoute {
        var line = StatsReport.ClusterRoute(name: route)
        line.admitted = decisions[0].load(ordering: .relaxed)
        line.refused = decisions[1].load(ordering: .relaxed)
        line.fallbackAdmitted = decisions[2].load(ordering: .relaxed)
        line.fallbackRefused = decisions[3].load(ordering: .relaxed)
        line.unavailable = decisions[4].load(ordering: .relaxed)
        line.leaseTokensExpired = UInt64(leases.expiredUnusedTokens)
        return line
    }

    /// Counts `verdict` (from Redis or a lease, or from the fallback) and returns it.
    private func counted(_ verdict: Verdict, fallback: Bool) -> Verdict {
        let slot: Int
        switch verdict {
        case .decided(let decision): slot = (fallback ? 2 : 0) + (decision.admitted ? 0 : 1)
        case .unavailable: slot = 4
        }
        decisions[slot].add(1, ordering: .relaxed)
        return verdict
    }

    init(route: String, gcra: GCRA, backend: ClusterBackend, fallback: ClusterFallback) {
        self.route = route
        self.gcra = gcra
        self.backend = backend
        self.fallback = fallback
        leases = ClusterLeaseTable(gcra: gcra, policy: LeasePolicy(gcra: gcra))
    }

    /// Decides the request of bucket `key` on `loop` (whose Redis connection is
    /// `connection`): a verdict at once, or nil when the request is parked and `resume` will
    /// get it on `loop`, within the backend's timeout (and `deadline`, if sooner).
    func decide(
        key: UInt64, on loop: EventLoop, connection: RedisConnection, deadline: UInt64? = nil,
        resume: @escaping (Verdict) -> Void
    ) -> Verdict? {
        let now = loop.now
        switch leases.take(key: key, now: now, waiter: Waiter(loop: loop, key: key, resume: resume)) {
        case .admitted(let decision), .refused(let decision):
            return counted(.decided(decision), fallback: false)
        case .admittedAndRefill(let decision, let bucket, let tokens):
            if backend.allowsCall(now: now) {
                ask(bucket, tokens: tokens, on: loop, connection: connection, deadline: nil)
            } else {
                resumeWithFallback(leases.failed(key: bucket), now: now)
            }
            return counted(.decided(decision), fallback: false)
        case .ask(let bucket, let tokens):
            guard backend.allowsCall(now: now) else {
                // Redis is not asked while the breaker is open: this request (the one waiter,
                // as no call was on its way) is decided by the fallback at once.
                var waiters = leases.failed(key: bucket)
                if !waiters.isEmpty { waiters.removeLast() }
                resumeWithFallback(waiters, now: now)
                return fallbackVerdict(key: key, now: now)
            }
            ask(bucket, tokens: tokens, on: loop, connection: connection, deadline: deadline)
            return nil
        case .wait:
            return nil
        }
    }

    /// The fallback's verdict for one request (counted as the fallback's).
    func fallbackVerdict(key: UInt64, now: UInt64) -> Verdict {
        let verdict: Verdict
        switch fallback {
        case .local(let store):
            verdict = .decided(store.decide(key: key, at: Instant(nanoseconds: now)))
        case .open:
            verdict = .decided(
                RateLimitDecision(
                    admitted: true, remaining: gcra.burst - 1, resetNanoseconds: gcra.interval,
                    retryAfterNanoseconds: 0))
        case .closed:
            verdict = .unavailable(retryAfterSeconds: 1)
        }
        return counted(verdict, fallback: true)
    }

    // MARK: Calls to Redis

    private func ask(
        _ bucket: UInt64, tokens: Int, on loop: EventLoop, connection: RedisConnection, deadline: UInt64?,
        scriptSent: Bool = false
    ) {
        let key = ClusterGCRAScript.key(route: route, clientKey: bucket)
        let call =
            scriptSent
            ? ClusterGCRAScript.fullCall(key: key, gcra, wanted: tokens)
            : ClusterGCRAScript.cachedCall(key: key, gcra, wanted: tokens)
        var timeout = backend.timeoutNanoseconds
        if let deadline { timeout = min(timeout, deadline > loop.now ? deadline - loop.now : 0) }
        backend.callSent()
        let sentAt = loop.now
        connection.send(call, timeoutNanoseconds: max(1, timeout)) { [self] result in
            let now = loop.now
            let reply: ClusterReply
            switch result {
            case .success(let value): reply = ClusterReply(value, wanted: tokens)
            case .failure(.timeout): reply = .failed(.timeout)
            case .failure(.disconnected): reply = .failed(.connection)
            case .failure(.protocolError): reply = .failed(.protocol)
            }
            switch reply {
            case .grant(let grant):
                backend.callSucceeded(roundTripNanoseconds: now &- sentAt)
                let resolution = leases.granted(grant, asked: tokens, key: bucket, now: now)
                for (waiter, decision) in resolution.admitted + resolution.refused {
                    waiter.deliver(counted(.decided(decision), fallback: false))
                }
                if let again = resolution.askAgain {
                    if backend.allowsCall(now: now) {
                        ask(bucket, tokens: again, on: loop, connection: connection, deadline: nil)
                    } else {
                        resumeWithFallback(leases.failed(key: bucket), now: now)
                    }
                }
            case .scriptMissing where !scriptSent:
                // The cache was emptied (restart, failover, SCRIPT FLUSH): send the script
                // itself once; that caches it again for every later EVALSHA.
                ask(
                    bucket, tokens: tokens, on: loop, connection: connection, deadline: deadline,
                    scriptSent: true)
            case .scriptMissing:
                backend.callFailed(.reply, now: now)
                resumeWithFallback(leases.failed(key: bucket), now: now)
            case .failed(let kind):
                backend.callFailed(kind, now: now)
                resumeWithFallback(leases.failed(key: bucket), now: now)
            }
        }
    }

    private func resumeWithFallback(_ waiters: [Waiter], now: UInt64) {
        for waiter in waiters { waiter.deliver(fallbackVerdict(key: waiter.key, now: now)) }
    }
}
