/// One process's share of one cluster bucket: tokens leased from Redis, a remembered
/// refusal, and how busy the key has been here (docs/configuration.md, "Cluster rate
/// limits").
///
/// - Tokens come from `ClusterGCRAScript` grants and are spent by requests of this process
///   only. They expire `ttl` after the grant and are never given back: a process that dies
///   or stops needing them under-admits, never over-admits. Since every token was counted
///   by Redis when it was granted and is spent within `ttl`, over any window W the fleet
///   admits at most `burst + rate × (W + ttl)`.
/// - A lease is sized from this process's demand for the key in the previous period (one
///   `ttl` long): one token for a quiet key (every request asks Redis: exact), at most
///   `maxTokens` (rate × ttl) for a hot one. A refill is asked for while tokens remain, so
///   a steady stream rarely waits.
/// - A refusal from Redis (or a grant short of the ask) is remembered until the next token,
///   or until a lease's worth of tokens has come back if that is later: requests refused
///   meanwhile cost no Redis operation.
///
/// Pure state, driven by its owner with the time: `take` decides what one request needs,
/// `granted`/`failed` take a reply in.
package struct KeyLease: Sendable, Equatable {
    package private(set) var tokens = 0
    package private(set) var expiresAt: UInt64 = 0
    /// A request to Redis for this key is on its way.
    package private(set) var refillInFlight = false
    /// Requests that had no token and wait for the refill in flight.
    package private(set) var waiting = 0
    package private(set) var deniedUntil: UInt64 = 0
    private var periodStart: UInt64 = 0
    private var demandThisPeriod = 0
    private var demandLastPeriod = 0
    /// Tokens that expired unused (for stats).
    package private(set) var expiredUnused = 0

    package init() {}

    /// What one request of this key gets.
    package enum Answer: Equatable, Sendable {
        /// Admitted with a leased token.
        case admitted
        /// Admitted with a leased token; also send a refill for `tokens` (no request waits on it).
        case admittedAndRefill(tokens: Int)
        /// Refused from the deny cache; retry after this many nanoseconds.
        case denied(retryAfterNanoseconds: UInt64)
        /// No token here: ask Redis for `tokens`, this request waiting for the answer.
        case ask(tokens: Int)
        /// No token here and a refill is on its way: wait for it.
        case wait
    }

    /// Decides what the request arriving at `now` gets, counting it as demand.
    package mutating func take(now: UInt64, policy: LeasePolicy) -> Answer {
        notePeriod(now: now, policy: policy)
        demandThisPeriod += 1
        expireIfDue(now: now)
        let denied = now < deniedUntil
        if tokens > 0 {
            tokens -= 1
            // No refill while Redis said the bucket is empty: it would be refused too.
            if !refillInFlight && !denied && tokens <= lowWater(policy) {
                refillInFlight = true
                return .admittedAndRefill(tokens: leaseSize(policy))
            }
            return .admitted
        }
        if denied { return .denied(retryAfterNanoseconds: deniedUntil - now) }
        waiting += 1
        if refillInFlight { return .wait }
        refillInFlight = true
        return .ask(tokens: leaseSize(policy))
    }

    /// What a grant did for the requests waiting on it.
    package struct GrantOutcome: Equatable, Sendable {
        /// Waiting requests admitted with granted tokens, in arrival order.
        package var admitted: Int
        /// Waiting requests refused: the bucket had fewer tokens than were asked for.
        package var refused: Int
        /// Still waiting: the grant was whole but smaller than the crowd that gathered
        /// while it was asked for; ask again for this many tokens.
        package var askAgain: Int?

        package init(admitted: Int, refused: Int, askAgain: Int?) {
            self.admitted = admitted
            self.refused = refused
            self.askAgain = askAgain
        }
    }

    /// Redis granted `grant.granted` of the `asked` tokens at `now`. The waiting requests
    /// take theirs first, in order; the rest become the lease. When the bucket ran short
    /// (fewer granted than asked) the requests left over are refused and the refusal is
    /// remembered until the next token; a whole grant that did not cover every waiter is
    /// asked for again, since the bucket may still have room for them.
    package mutating func granted(
        _ grant: ClusterGrant, asked: Int, now: UInt64, policy: LeasePolicy
    ) -> GrantOutcome {
        refillInFlight = false
        expireIfDue(now: now)
        let served = min(waiting, grant.granted)
        let left = grant.granted - served
        waiting -= served
        if left > 0 {
            tokens += left
            expiresAt = now &+ policy.ttl
        }
        let bucketShort = grant.granted < asked
        if bucketShort {
            // Asking again before a lease's worth of tokens has come back would cost a Redis
            // operation per refusal when the key is far over its rate (and every process
            // asks): wait for a lease's refill, never less than the next token.
            let nextToken = grant.granted == 0 ? grant.retryAfterNanoseconds : policy.interval
            let leaseRefill = UInt64(leaseSize(policy)) &* policy.interval
            deniedUntil = max(deniedUntil, now &+ max(1, nextToken, leaseRefill))
        }
        guard waiting > 0 else { return GrantOutcome(admitted: served, refused: 0, askAgain: nil) }
        if bucketShort {
            defer { waiting = 0 }
            return GrantOutcome(admitted: served, refused: waiting, askAgain: nil)
        }
        refillInFlight = true
        return GrantOutcome(
            admitted: served, refused: 0, askAgain: min(policy.maxTokens, waiting + leaseSize(policy)))
    }

    /// The ask failed (backend error or timeout): the waiting requests are decided by the
    /// fallback policy; returns how many were waiting.
    package mutating func failed() -> Int {
        refillInFlight = false
        defer { waiting = 0 }
        return waiting
    }

    /// True when the lease holds nothing worth keeping, so its owner may forget the key (a
    /// key seen again starts as a quiet one).
    package func isIdle(now: UInt64, policy: LeasePolicy) -> Bool {
        !refillInFlight && waiting == 0 && now >= deniedUntil && (tokens == 0 || now >= expiresAt)
            && now >= periodStart &+ 2 &* policy.ttl
    }

    private mutating func expireIfDue(now: UInt64) {
        if tokens > 0 && now >= expiresAt {
            expiredUnused += tokens
            tokens = 0
        }
    }

    private mutating func notePeriod(now: UInt64, policy: LeasePolicy) {
        guard now >= periodStart &+ policy.ttl else { return }
        // A gap of more than one period means no demand in the last one.
        demandLastPeriod = now >= periodStart &+ 2 &* policy.ttl ? 0 : demandThisPeriod
        demandThisPeriod = 0
        periodStart = now
    }

    /// Last period's demand (what one lease should cover), within [1, maxTokens].
    private func leaseSize(_ policy: LeasePolicy) -> Int {
        min(policy.maxTokens, max(1, max(demandLastPeriod, demandThisPeriod)))
    }

    /// Ask again once a quarter of a lease is left, so the answer arrives before it is spent.
    private func lowWater(_ policy: LeasePolicy) -> Int {
        leaseSize(policy) / 4
    }
}

/// How leases are sized and how long they last, for one route's limit.
package struct LeasePolicy: Sendable, Equatable {
    /// How long leased tokens stay usable (default 100 ms).
    package let ttl: UInt64
    /// The largest lease: the tokens the route's rate refills in one `ttl`, at least 1.
    package let maxTokens: Int
    /// Nanoseconds per token (the route's `GCRA.interval`).
    package let interval: UInt64

    package init(gcra: GCRA, ttlNanoseconds: UInt64 = 100_000_000) {
        ttl = ttlNanoseconds
        interval = gcra.interval
        maxTokens = max(1, Int(min(UInt64(Int32.max), ttlNanoseconds / max(1, gcra.interval))))
    }
}
