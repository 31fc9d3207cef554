import Synchronization

/// The in-process bucket store of one route, shared by every worker: exact across workers
/// (docs/configuration.md, "Rate limiting").
///
/// - A `global` limit is one TAT in an atomic, updated with a compare-and-swap: no lock.
/// - Keyed limits keep `key → TAT` in 64 shards, each behind its own mutex, held only for
///   one dictionary lookup and update (never across I/O). A key's entry and its TAT change
///   together, which keeps forgetting and the key cap exact; two workers wait for each other
///   only when they decide keys of the same shard at the same instant.
/// - Memory is bounded: a shard that has grown to its sweep mark forgets every full bucket
///   (TAT at or before now: the same as never seen, so forgetting changes nothing), and
///   beyond `maxKeys` tracked keys a new key shares one overflow bucket with the route's
///   limits (a shared limit, never none); `onOverflow` is called then, at most once a minute.
package final class LocalRateLimitStore: RateLimitStore {
    /// Tracked keys per route beyond which new keys share the overflow bucket.
    package static let defaultMaxKeys = 100_000
    private static let shardCount = 64
    private static let minimumSweepMark = 64
    private static let overflowWarningInterval: UInt64 = 60_000_000_000

    package let gcra: GCRA
    private let isGlobal: Bool
    private let maxKeys: Int
    private let onOverflow: @Sendable () -> Void
    /// The `global` bucket.
    private let single = Atomic<UInt64>(0)
    /// The bucket new keys share once `maxKeys` are tracked.
    private let overflow = Atomic<UInt64>(0)
    private let shards: InlineArray<64, Mutex<Shard>>
    private let trackedKeys = Atomic<Int>(0)
    /// When every shard was last swept for room (a key found the store full), and when the
    /// overflow was last reported (nanoseconds; 0: never).
    private let lastFullSweep = Atomic<UInt64>(0)
    private let lastOverflowWarning = Atomic<UInt64>(0)

    private struct Shard: ~Copyable {
        var tats = TATTable()
        /// The size at which the shard next forgets its full buckets.
        var sweepMark = LocalRateLimitStore.minimumSweepMark
    }

    package init(
        gcra: GCRA, global: Bool, maxKeys: Int = LocalRateLimitStore.defaultMaxKeys,
        onOverflow: @escaping @Sendable () -> Void = {}
    ) {
        self.gcra = gcra
        self.isGlobal = global
        self.maxKeys = maxKeys
        self.onOverflow = onOverflow
        shards = InlineArray { _ in Mutex(Shard()) }
    }

    package func decide(key: UInt64, at now: Instant) -> RateLimitDecision {
        if isGlobal { return decide(on: single, at: now.nanoseconds) }
        let now = now.nanoseconds
        let shard = Int(truncatingIfNeeded: key >> 58)
        let outcome = shards[shard].withLock { shard -> RateLimitDecision? in
            let known = shard.tats.update(key) { current -> (RateLimitDecision?, UInt64?) in
                guard let current else { return (nil, nil) }
                let (decision, tat) = gcra.decide(tat: current, now: now)
                return (decision, decision.admitted ? tat : nil)
            }
            if let known { return known }
            // A key not tracked has a full bucket.
            let (decision, tat) = gcra.decide(tat: 0, now: now)
            if shard.tats.count >= shard.sweepMark { forgetFullBuckets(&shard, now: now) }
            guard trackedKeys.add(1, ordering: .relaxed).newValue <= maxKeys else {
                trackedKeys.subtract(1, ordering: .relaxed)
                return nil
            }
            shard.tats.set(key, tat: tat)
            return decision
        }
        if let outcome { return outcome }
        makeRoom(now: now)
        return decide(on: overflow, at: now)
    }

    /// Keys tracked now (for tests and stats).
    package var trackedKeyCount: Int { trackedKeys.load(ordering: .relaxed) }

    private func decide(on bucket: borrowing Atomic<UInt64>, at now: UInt64) -> RateLimitDecision {
        var tat = bucket.load(ordering: .relaxed)
        while true {
            let (decision, next) = gcra.decide(tat: tat, now: now)
            if !decision.admitted { return decision }
            let (exchanged, original) = bucket.compareExchange(
                expected: tat, desired: next, ordering: .relaxed)
            if exchanged { return decision }
            tat = original
        }
    }

    private func forgetFullBuckets(_ shard: inout Shard, now: UInt64) {
        let before = shard.tats.count
        shard.tats.removeAll(fullAt: now)
        trackedKeys.subtract(before - shard.tats.count, ordering: .relaxed)
        shard.sweepMark = Swift.max(Self.minimumSweepMark, 2 * shard.tats.count)
    }

    /// A new key found `maxKeys` tracked: forgets the full buckets of every shard (at most
    /// once a second, each shard under its own lock in turn) and reports the overflow.
    private func makeRoom(now: UInt64) {
        let swept = lastFullSweep.load(ordering: .relaxed)
        if swept == 0 || now &- swept >= 1_000_000_000,
            lastFullSweep.compareExchange(expected: swept, desired: now, ordering: .relaxed).exchanged
        {
            for index in 0..<Self.shardCount {
                shards[index].withLock { forgetFullBuckets(&$0, now: now) }
            }
        }
        let warned = lastOverflowWarning.load(ordering: .relaxed)
        if warned == 0 || now &- warned >= Self.overflowWarningInterval,
            lastOverflowWarning.compareExchange(expected: warned, desired: now, ordering: .relaxed).exchanged
        {
            onOverflow()
        }
    }
}
