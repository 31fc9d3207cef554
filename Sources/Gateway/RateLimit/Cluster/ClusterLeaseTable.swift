import Synchronization

/// The leases of one route's cluster limit in this process, shared by every worker
/// (docs/configuration.md, "Cluster rate limits"): one `KeyLease` per bucket key, plus the
/// requests parked on a call to Redis for that key and what Redis last said about it, so
/// leased admissions carry the same RateLimit numbers as the local limiter's.
///
/// Like `LocalRateLimitStore`, keys live in 64 shards each behind its own mutex, held for
/// one dictionary update, never across I/O. The caller does the I/O: `take` says whether a
/// request is decided at once or must wait for a call to Redis (which the caller sends),
/// and `granted`/`failed` hand the parked requests back with their fate. `Waiter` is
/// whatever the caller needs to resume a parked request.
///
/// Memory is bounded: a shard that reaches its sweep mark forgets idle leases (nothing
/// leased, refused or waited for: the same as never seen), and beyond `maxKeys` keys new
/// keys share one overflow bucket.
package final class ClusterLeaseTable<Waiter: Sendable>: Sendable {
    package static var defaultMaxKeys: Int { 100_000 }
    /// The key new keys share once `maxKeys` are tracked (a shared limit, never none).
    package static var overflowKey: UInt64 { 0xffff_ffff_ffff_fffe }
    private static var minimumSweepMark: Int { 64 }

    package let gcra: GCRA
    package let policy: LeasePolicy
    private let maxKeys: Int
    private let shards: InlineArray<64, Mutex<Shard>>
    private let trackedKeys = Atomic<Int>(0)
    /// Leased tokens that expired unused, summed over forgotten leases (for stats).
    private let expiredOfForgotten = Atomic<Int>(0)

    private struct Entry {
        var lease = KeyLease()
        var waiters: [Waiter] = []
        /// Redis's last answer for this key and when it came (for the RateLimit fields).
        var lastGrant: ClusterGrant?
        var grantedAt: UInt64 = 0
    }

    private struct Shard: ~Copyable {
        var entries: [UInt64: Entry] = [:]
        var sweepMark = ClusterLeaseTable.minimumSweepMark
    }

    package init(gcra: GCRA, policy: LeasePolicy, maxKeys: Int = ClusterLeaseTable.defaultMaxKeys) {
        self.gcra = gcra
        self.policy = policy
        self.maxKeys = maxKeys
        shards = InlineArray { _ in Mutex(Shard()) }
    }

    /// What `take` decided for one request.
    package enum Take: Sendable {
        /// Admitted with a leased token.
        case admitted(RateLimitDecision)
        /// Admitted with a leased token; also call Redis for `tokens` more for `key` (no
        /// request waits on that call).
        case admittedAndRefill(RateLimitDecision, key: UInt64, tokens: Int)
        /// Refused without asking Redis (it refused this key moments ago).
        case refused(RateLimitDecision)
        /// Parked: call Redis for `tokens` for `key`, then `granted` or `failed`.
        case ask(key: UInt64, tokens: Int)
        /// Parked behind a call already on its way for this key.
        case wait
    }

    /// Decides the request of bucket `key` arriving at `now`; `waiter` is kept when the
    /// answer parks it (`ask`, `wait`). The returned key is the one to ask Redis for (the
    /// overflow key once the table is full).
    package func take(key requested: UInt64, now: UInt64, waiter: @autoclosure () -> Waiter) -> Take {
        let key = requested == Self.overflowKey ? requested &- 1 : requested
        let shard = Int(truncatingIfNeeded: key >> 58)
        let taken = shards[shard].withLock { shard -> Take? in
            if shard.entries[key] == nil {
                if shard.entries.count >= shard.sweepMark { forgetIdle(&shard, now: now) }
                guard trackedKeys.add(1, ordering: .relaxed).newValue <= maxKeys else {
                    trackedKeys.subtract(1, ordering: .relaxed)
                    return nil
                }
                shard.entries[key] = Entry()
            }
            return take(&shard.entries[key]!, key: key, now: now, waiter: waiter)
        }
        if let taken { return taken }
        let overflow = Self.overflowKey
        return shards[Int(truncatingIfNeeded: overflow >> 58)].withLock { shard in
            take(&shard.entries[overflow, default: Entry()], key: overflow, now: now, waiter: waiter)
        }
    }

    private func take(_ entry: inout Entry, key: UInt64, now: UInt64, waiter: () -> Waiter) -> Take {
        switch entry.lease.take(now: now, policy: policy) {
        case .admitted:
            return .admitted(admittedDecision(entry, now: now))
        case .admittedAndRefill(let tokens):
            return .admittedAndRefill(admittedDecision(entry, now: now), key: key, tokens: tokens)
        case .denied(let retryAfter):
            return .refused(refusedDecision(entry, now: now, retryAfter: retryAfter))
        case .ask(let tokens):
            entry.waiters.append(waiter())
            return .ask(key: key, tokens: tokens)
        case .wait:
            entry.waiters.append(waiter())
            return .wait
        }
    }

    /// The parked requests' fate after a grant.
    package struct Resolution: Sendable {
        /// Admitted, in arrival order, each with its decision.
        package var admitted: [(Waiter, RateLimitDecision)] = []
        /// Refused, with the decision their 429 carries.
        package var refused: [(Waiter, RateLimitDecision)] = []
        /// Call Redis again for this many tokens: more requests arrived while it was asked.
        package var askAgain: Int?
    }

    /// Redis granted `grant` of the `asked` tokens for `key` at `now`.
    package func granted(_ grant: ClusterGrant, asked: Int, key: UInt64, now: UInt64) -> Resolution {
        shards[Int(truncatingIfNeeded: key >> 58)].withLock { shard in
            guard var entry = shard.entries.removeValue(forKey: key) else { return Resolution() }
            defer { shard.entries[key] = entry }
            entry.lastGrant = grant
            entry.grantedAt = now
            let outcome = entry.lease.granted(grant, asked: asked, now: now, policy: policy)
            var resolution = Resolution(askAgain: outcome.askAgain)
            let admittedCount = outcome.admitted
            let refusedCount = outcome.refused
            var index = 0
            for waiter in entry.waiters.prefix(admittedCount) {
                // Each admitted waiter took one of the granted tokens, in order.
                var decision = admittedDecision(entry, now: now)
                decision.remaining = max(0, grant.remaining + grant.granted - index - 1)
                resolution.admitted.append((waiter, decision))
                index += 1
            }
            let retryAfter = entry.lease.deniedUntil > now ? entry.lease.deniedUntil - now : policy.interval
            for waiter in entry.waiters.dropFirst(admittedCount).prefix(refusedCount) {
                resolution.refused.append((waiter, refusedDecision(entry, now: now, retryAfter: retryAfter)))
            }
            entry.waiters.removeFirst(admittedCount + refusedCount)
            return resolution
        }
    }

    /// The call for `key` failed: every parked request goes to the fallback.
    package func failed(key: UInt64) -> [Waiter] {
        shards[Int(truncatingIfNeeded: key >> 58)].withLock { shard in
            guard var entry = shard.entries.removeValue(forKey: key) else { return [] }
            _ = entry.lease.failed()
            let waiters = entry.waiters
            entry.waiters.removeAll()
            shard.entries[key] = entry
            return waiters
        }
    }

    /// Keys tracked now (for tests and stats).
    package var trackedKeyCount: Int { trackedKeys.load(ordering: .relaxed) }

    /// Leased tokens that expired unused, in every lease this table has held.
    package var expiredUnusedTokens: Int {
        var total = expiredOfForgotten.load(ordering: .relaxed)
        for index in 0..<64 {
            total += shards[index].withLock { $0.entries.values.reduce(0) { $0 + $1.lease.expiredUnused } }
        }
        return total
    }

    // MARK: Decisions

    /// What a leased admission tells the client: the tokens this process holds plus what
    /// Redis said was left, and the reset Redis gave, aged by the time since.
    private func admittedDecision(_ entry: Entry, now: UInt64) -> RateLimitDecision {
        guard let grant = entry.lastGrant else {
            return RateLimitDecision(
                admitted: true, remaining: entry.lease.tokens, resetNanoseconds: gcra.interval,
                retryAfterNanoseconds: 0)
        }
        let age = now &- entry.grantedAt
        return RateLimitDecision(
            admitted: true, remaining: min(gcra.burst, grant.remaining + entry.lease.tokens),
            resetNanoseconds: grant.resetNanoseconds > age ? grant.resetNanoseconds - age : 0,
            retryAfterNanoseconds: 0)
    }

    private func refusedDecision(_ entry: Entry, now: UInt64, retryAfter: UInt64) -> RateLimitDecision {
        let age = now &- entry.grantedAt
        let reset = entry.lastGrant.map { $0.resetNanoseconds > age ? $0.resetNanoseconds - age : 0 } ?? 0
        return RateLimitDecision(
            admitted: false, remaining: 0, resetNanoseconds: max(reset, retryAfter),
            retryAfterNanoseconds: retryAfter)
    }

    private func forgetIdle(_ shard: inout Shard, now: UInt64) {
        let before = shard.entries.count
        var expired = 0
        shard.entries = shard.entries.filter { _, entry in
            guard entry.waiters.isEmpty, entry.lease.isIdle(now: now, policy: policy) else { return true }
            // Idle with tokens means they have expired (never spent): count them too.
            expired += entry.lease.expiredUnused + entry.lease.tokens
            return false
        }
        expiredOfForgotten.add(expired, ordering: .relaxed)
        trackedKeys.subtract(before - shard.entries.count, ordering: .relaxed)
        shard.sweepMark = Swift.max(Self.minimumSweepMark, 2 * shard.entries.count)
    }
}
