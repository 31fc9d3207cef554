import Gateway
import Glibc
import Synchronization
import Testing

/// Instants as milliseconds after a base of 1000 s.
private func at(_ milliseconds: Int) -> Instant {
    Instant(nanoseconds: 1_000_000_000_000) + .milliseconds(milliseconds)
}

private let second: UInt64 = 1_000_000_000

@Suite struct GCRATests {
    @Test func aFullBucketAdmitsTheBurstThenRefuses() {
        let gcra = GCRA(requestsPerSecond: 10, burst: 3)
        var tat: UInt64 = 0
        let now = at(0).nanoseconds
        var remaining: [Int] = []
        for _ in 0..<3 {
            let (decision, next) = gcra.decide(tat: tat, now: now)
            #expect(decision.admitted)
            remaining.append(decision.remaining)
            tat = next
        }
        #expect(remaining == [2, 1, 0])
        let (refused, unchanged) = gcra.decide(tat: tat, now: now)
        #expect(!refused.admitted)
        #expect(unchanged == tat, "a refusal takes no token")
        #expect(refused.remaining == 0)
        #expect(refused.retryAfterNanoseconds == 100_000_000, "one interval until the next token")
        #expect(refused.retryAfterSeconds == 1, "rounded up, at least 1")
        #expect(refused.resetNanoseconds == 300_000_000)
        #expect(refused.resetSeconds == 1)
    }

    @Test func tokensComeBackAtTheRate() {
        let gcra = GCRA(requestsPerSecond: 2, burst: 1)
        let (first, tat) = gcra.decide(tat: 0, now: at(0).nanoseconds)
        #expect(first.admitted && first.remaining == 0 && first.resetNanoseconds == 500_000_000)
        #expect(!gcra.decide(tat: tat, now: at(499).nanoseconds).decision.admitted)
        let early = gcra.decide(tat: tat, now: at(200).nanoseconds).decision
        #expect(early.retryAfterNanoseconds == 300_000_000)
        #expect(gcra.decide(tat: tat, now: at(500).nanoseconds).decision.admitted)
    }

    @Test func fractionalRatesAndTheirFieldValues() {
        let gcra = GCRA(requestsPerSecond: 0.5, burst: 2)
        #expect(gcra.interval == 2 * second)
        #expect(gcra.windowSeconds == 4)
        var tat: UInt64 = 0
        for _ in 0..<2 { tat = gcra.decide(tat: tat, now: at(0).nanoseconds).newTAT }
        let refused = gcra.decide(tat: tat, now: at(500).nanoseconds).decision
        #expect(refused.retryAfterSeconds == 2)  // 1.5 s, rounded up
        #expect(refused.resetSeconds == 4)  // 3.5 s, rounded up
    }

    @Test func theIntervalRoundsUpSoTheRateIsNeverExceeded() {
        #expect(GCRA(requestsPerSecond: 3, burst: 1).interval == 333_333_334)
        #expect(GCRA(requestsPerSecond: 0.001, burst: 1000).window == 1_000_000_000_000_000)
        let huge = GCRA(requestsPerSecond: 0.001, burst: 1_000_000_000_000)
        #expect(huge.window == .max, "saturates")
    }

    @Test func aKeyUnderItsRateIsNeverRefused() {
        let gcra = GCRA(requestsPerSecond: 100, burst: 1)
        var tat: UInt64 = 0
        for step in 0..<10_000 {
            let (decision, next) = gcra.decide(tat: tat, now: at(0).nanoseconds + UInt64(step) * 10_000_000)
            #expect(decision.admitted)
            tat = next
        }
    }

    /// Over any interval T a key is admitted at most burst + T × rate requests: checked for
    /// every window between admitted requests of a bursty pseudo-random arrival sequence.
    @Test(arguments: [(5.0, 3), (0.5, 1), (1000.0, 50), (7.3, 4)])
    func admissionsOverAnyIntervalStayWithinTheBound(rate: Double, burst: Int) {
        let gcra = GCRA(requestsPerSecond: rate, burst: burst)
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15
        var now = at(0).nanoseconds
        var tat: UInt64 = 0
        var admitted: [UInt64] = []
        for _ in 0..<3000 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Mostly bursts, sometimes long pauses.
            now +=
                (random >> 60) < 12
                ? (random >> 40) % (gcra.interval / 4 + 1) : (random >> 30) % (4 * gcra.interval)
            let (decision, next) = gcra.decide(tat: tat, now: now)
            if decision.admitted {
                admitted.append(now)
                tat = next
            }
        }
        #expect(admitted.count > burst)
        for start in admitted.indices {
            for end in start..<admitted.count {
                let span = Double(admitted[end] - admitted[start]) / 1e9
                let allowed = Double(burst) + span * rate
                if Double(end - start + 1) > allowed + 1e-9 {
                    Issue.record("\(end - start + 1) admitted within \(span) s, at most \(allowed) allowed")
                    return
                }
            }
        }
    }
}

@Suite struct LocalRateLimitStoreTests {
    private func store(
        rate: Double = 10, burst: Int = 2, global: Bool = false, maxKeys: Int = 100_000,
        onOverflow: @escaping @Sendable () -> Void = {}
    ) -> LocalRateLimitStore {
        LocalRateLimitStore(
            gcra: GCRA(requestsPerSecond: rate, burst: burst), global: global, maxKeys: maxKeys,
            onOverflow: onOverflow)
    }

    @Test func keysHaveTheirOwnBuckets() {
        let store = store()
        let a = (0..<3).map { _ in store.decide(key: 1, at: at(0)).admitted }
        let b = (0..<3).map { _ in store.decide(key: 2 << 58, at: at(0)).admitted }
        #expect(a == [true, true, false])
        #expect(b == [true, true, false])
    }

    @Test func aGlobalLimitIsOneBucketWhateverTheKey() {
        let store = store(global: true)
        #expect(store.decide(key: 1, at: at(0)).admitted)
        #expect(store.decide(key: 2, at: at(0)).admitted)
        #expect(!store.decide(key: 3, at: at(0)).admitted)
        #expect(store.trackedKeyCount == 0)
    }

    @Test func manyKeysKeepTheirOwnBuckets() {
        let store = store(rate: 1, burst: 1)
        var random: UInt64 = 1
        var keys: [UInt64] = []
        for _ in 0..<5000 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            keys.append(random)
        }
        keys.append(0)
        #expect(keys.allSatisfy { store.decide(key: $0, at: at(0)).admitted })
        #expect(keys.allSatisfy { !store.decide(key: $0, at: at(10)).admitted })
        #expect(store.trackedKeyCount == keys.count)
    }

    @Test func fullBucketsAreForgotten() {
        let store = store(rate: 10, burst: 1)
        // 64 keys in one shard (the top six bits pick it), all with a token taken.
        for key in 0..<64 { #expect(store.decide(key: UInt64(key), at: at(0)).admitted) }
        #expect(store.trackedKeyCount == 64)
        // A second later every bucket is full again; the next new key sweeps the shard.
        #expect(store.decide(key: 1000, at: at(1000)).admitted)
        #expect(store.trackedKeyCount == 1)
        // Forgetting a full bucket changes nothing: the key gets its burst again.
        #expect(store.decide(key: 3, at: at(1000)).admitted)
        #expect(!store.decide(key: 3, at: at(1000)).admitted)
    }

    @Test func beyondMaxKeysNewKeysShareTheOverflowBucket() {
        let warnings = Atomic<Int>(0)
        let store = store(
            rate: 1, burst: 1, maxKeys: 4, onOverflow: { warnings.add(1, ordering: .relaxed) })
        for key in 0..<4 { #expect(store.decide(key: UInt64(key) << 58, at: at(0)).admitted) }
        #expect(store.trackedKeyCount == 4)
        // Keys 5 and 6 are not tracked: they share one bucket with the route's limits.
        #expect(store.decide(key: 5 << 58, at: at(0)).admitted)
        #expect(!store.decide(key: 6 << 58, at: at(0)).admitted, "a shared limit, never none")
        #expect(!store.decide(key: 5 << 58, at: at(10)).admitted)
        #expect(store.trackedKeyCount == 4, "memory stays bounded")
        #expect(warnings.load(ordering: .relaxed) == 1, "reported at most once a minute")
        // Once buckets are full again there is room: the next key is tracked after a sweep.
        #expect(store.decide(key: 7 << 58, at: at(2000)).admitted)
        #expect(store.decide(key: 8 << 58, at: at(2000)).admitted)
        #expect(store.trackedKeyCount <= 4)
    }

    /// Many threads take tokens of one bucket at once: over a fixed sequence of instants,
    /// exactly burst + (elapsed × rate) are admitted, never more.
    @Test(arguments: [false, true])
    func exactUnderConcurrentUse(global: Bool) {
        let store = store(rate: 100, burst: 20, global: global)
        let threads = 8
        let admitted = Atomic<Int>(0)
        // Each step every thread tries 10 times at the same instant; steps 50 ms apart
        // (5 tokens each).
        let steps = 20
        let barrier = Atomic<Int>(0)
        concurrently(threads: threads) { _ in
            for step in 0..<steps {
                let now = at(step * 50)
                for _ in 0..<10 where store.decide(key: 42, at: now).admitted {
                    admitted.add(1, ordering: .relaxed)
                }
                // All threads finish a step before any starts the next.
                barrier.add(1, ordering: .relaxed)
                while barrier.load(ordering: .relaxed) < (step + 1) * threads { sched_yield() }
            }
        }
        #expect(admitted.load(ordering: .relaxed) == 20 + (steps - 1) * 5)
    }
}
