import Gateway
import Testing

/// The cluster limiter's arithmetic without Redis: the script's GCRA (modelled here in
/// Swift, line by line from `ClusterGCRAScript.source`), leases, the deny cache, and the
/// fleet-wide bound, all on manual time.
@Suite struct ClusterLeaseTests {
    /// The Lua script's arithmetic, in microseconds like the script.
    struct ScriptModel {
        var tat: [UInt64: Double] = [:]

        mutating func run(key: UInt64, nowMicros: Double, interval: Double, burst: Double, wanted: Int)
            -> ClusterGrant
        {
            let window = interval * burst
            var current = tat[key] ?? nowMicros
            if current < nowMicros { current = nowMicros }
            let room = max(0, Int(((nowMicros + window - current) / interval).rounded(.down)))
            let granted = min(wanted, room)
            if granted > 0 {
                current += Double(granted) * interval
                tat[key] = current
            }
            let retry = granted == 0 ? current + interval - window - nowMicros : 0
            return ClusterGrant(
                reply: [Int64(granted), Int64(room - granted), Int64(current - nowMicros), Int64(retry)],
                wanted: wanted)!
        }
    }

    private let ms: UInt64 = 1_000_000

    /// One token at a time, the script admits exactly what the local GCRA admits.
    @Test func scriptAgreesWithTheLocalGCRA() {
        let gcra = GCRA(requestsPerSecond: 50, burst: 5)
        let interval = Double(gcra.interval / 1000)
        var script = ScriptModel()
        var localTAT: UInt64 = 0
        var state: UInt64 = 7
        var now: UInt64 = 1_000_000 * ms
        for _ in 0..<5000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            now += (state >> 33) % (40 * ms)
            let local = gcra.decide(tat: localTAT, now: now)
            if local.decision.admitted { localTAT = local.newTAT }
            let grant = script.run(
                key: 1, nowMicros: Double(now / 1000), interval: interval, burst: Double(gcra.burst),
                wanted: 1)
            #expect((grant.granted == 1) == local.decision.admitted, "at \(now)")
            #expect(grant.remaining == local.decision.remaining)
        }
    }

    @Test func scriptArgumentsAndKeys() {
        let gcra = GCRA(requestsPerSecond: 3, burst: 10)
        let arguments = ClusterGCRAScript.arguments(gcra, wanted: 4).map {
            String(decoding: $0, as: UTF8.self)
        }
        #expect(arguments == ["333334", "10", "4"])  // 333,333,334 ns rounded up to whole microseconds
        let key = String(decoding: ClusterGCRAScript.key(route: "api", clientKey: 0xab), as: UTF8.self)
        #expect(key == "portico:v1:api:00000000000000ab")
        #expect(ClusterGrant(reply: [1, 2, 3], wanted: 1) == nil)
        #expect(ClusterGrant(reply: [2, 0, 0, 0], wanted: 1) == nil, "more than asked for")
        #expect(ClusterGrant(reply: [0, 0, 5, -1], wanted: 1) == nil)
        #expect(ClusterGrant(reply: [1, 3, 2000, 0], wanted: 2)?.resetNanoseconds == 2_000_000)
    }

    /// A quiet key asks Redis for one token per request: exact.
    @Test func aQuietKeyAsksForOneTokenPerRequest() {
        let policy = LeasePolicy(gcra: GCRA(requestsPerSecond: 1000, burst: 10))
        var lease = KeyLease()
        var now: UInt64 = 1000 * ms
        for _ in 0..<5 {
            now += 500 * ms
            #expect(lease.take(now: now, policy: policy) == .ask(tokens: 1))
            let outcome = lease.granted(full(1), asked: 1, now: now + ms, policy: policy)
            #expect(outcome == KeyLease.GrantOutcome(admitted: 1, refused: 0, askAgain: nil))
            #expect(lease.tokens == 0)
        }
    }

    /// A busy key's lease covers last period's demand (at most rate × ttl), and the refill is
    /// asked for while tokens remain, so requests stop waiting.
    @Test func aBusyKeyLeasesItsDemandAndRefillsEarly() {
        let policy = LeasePolicy(gcra: GCRA(requestsPerSecond: 1000, burst: 100))  // ≤ 100 per lease
        #expect(policy.maxTokens == 100)
        var lease = KeyLease()
        var now: UInt64 = 1000 * ms
        var asks: [Int] = []
        var waits = 0
        var pending: Int?
        // 40 requests per 100 ms period, one every 2.5 ms, for 2 s; Redis answers in 1 ms.
        for step in 0..<800 {
            now += 2_500_000
            if let asked = pending {
                let outcome = lease.granted(full(asked), asked: asked, now: now - 1_500_000, policy: policy)
                #expect(outcome.refused == 0 && outcome.askAgain == nil)
                pending = nil
            }
            switch lease.take(now: now, policy: policy) {
            case .ask(let tokens):
                asks.append(tokens)
                pending = tokens
                waits += step > 100 ? 1 : 0
            case .admittedAndRefill(let tokens):
                asks.append(tokens)
                pending = tokens
            case .admitted: break
            case .wait, .denied: Issue.record("unexpected at step \(step)")
            }
        }
        #expect(waits == 0, "steady traffic never waits for Redis")
        #expect(asks.suffix(10).allSatisfy { $0 == 40 }, "\(asks.suffix(10))")
        #expect(asks.count < 800 / 10, "\(asks.count) Redis operations for 800 requests")
    }

    @Test func leasedTokensExpireUnused() {
        let policy = LeasePolicy(gcra: GCRA(requestsPerSecond: 1000, burst: 100))
        var lease = KeyLease()
        let now: UInt64 = 1000 * ms
        #expect(lease.take(now: now, policy: policy) == .ask(tokens: 1))
        _ = lease.granted(full(10), asked: 10, now: now, policy: policy)
        #expect(lease.tokens == 9)
        #expect(lease.take(now: now + 50 * ms, policy: policy) == .admitted)
        #expect(lease.take(now: now + 100 * ms, policy: policy) == .ask(tokens: 2))
        #expect(lease.expiredUnused == 8)
        #expect(lease.tokens == 0)
    }

    /// A refusal from Redis is remembered until its retry time: requests meanwhile are
    /// refused without asking, then the key asks again.
    @Test func refusalsAreRememberedUntilTheirRetryTime() {
        let policy = LeasePolicy(gcra: GCRA(requestsPerSecond: 10, burst: 1))
        var lease = KeyLease()
        let now: UInt64 = 1000 * ms
        #expect(lease.take(now: now, policy: policy) == .ask(tokens: 1))
        let none = ClusterGrant(
            granted: 0, remaining: 0, resetNanoseconds: 100 * ms, retryAfterNanoseconds: 180 * ms)
        #expect(lease.granted(none, asked: 1, now: now, policy: policy).refused == 1)
        #expect(lease.take(now: now + 10 * ms, policy: policy) == .denied(retryAfterNanoseconds: 170 * ms))
        #expect(lease.take(now: now + 179 * ms, policy: policy) == .denied(retryAfterNanoseconds: 1 * ms))
        if case .ask = lease.take(now: now + 180 * ms, policy: policy) {} else { Issue.record("asks again") }
    }

    /// Requests that gather while an ask is on its way share its grant; a whole grant too
    /// small for them is asked for again, a short one (the bucket ran dry) refuses the rest.
    @Test func waitersShareTheGrantThenAskAgainOrAreRefused() {
        let policy = LeasePolicy(gcra: GCRA(requestsPerSecond: 1000, burst: 100))
        var lease = KeyLease()
        let now: UInt64 = 1000 * ms
        #expect(lease.take(now: now, policy: policy) == .ask(tokens: 1))
        for _ in 0..<4 { #expect(lease.take(now: now, policy: policy) == .wait) }
        let whole = lease.granted(full(1), asked: 1, now: now + ms, policy: policy)
        #expect(whole.admitted == 1 && whole.refused == 0)
        let again = try! #require(whole.askAgain)
        #expect(again >= 4)
        let short = lease.granted(full(2), asked: again, now: now + 2 * ms, policy: policy)
        #expect(short == KeyLease.GrantOutcome(admitted: 2, refused: 2, askAgain: nil))
        // Refused until a lease's worth (this period's demand, 5) has come back: 5 ms.
        #expect(lease.take(now: now + 2 * ms, policy: policy) == .denied(retryAfterNanoseconds: 5 * ms))
    }

    /// Four processes, 3× the rate offered for 20 s, Redis 1 ms away: over every 1 s and
    /// 10 s window the fleet admits at most burst + rate × (W + ttl), at least 97% of the
    /// rate over the run, with a fraction of a Redis operation per admitted request.
    @Test func theFleetStaysWithinTheBound() {
        let rate = 1000.0
        let burst = 100
        let gcra = GCRA(requestsPerSecond: rate, burst: burst)
        let policy = LeasePolicy(gcra: gcra)
        var script = ScriptModel()
        var leases = Array(repeating: KeyLease(), count: 4)
        var inFlight: [(process: Int, asked: Int, at: UInt64)] = []
        var admittedAt: [UInt64] = []
        var operations = 0
        let start: UInt64 = 1000 * 1000 * ms
        let step: UInt64 = 333_334  // 3000 requests per second in all
        var now = start
        var turn = 0
        while now < start + 20_000 * ms {
            now += step
            // Answers due by now, in order.
            while let first = inFlight.first, first.at + ms <= now {
                inFlight.removeFirst()
                let answeredAt = first.at + ms
                let grant = script.run(
                    key: 1, nowMicros: Double(answeredAt / 1000), interval: Double(gcra.interval / 1000),
                    burst: Double(burst), wanted: first.asked)
                let outcome = leases[first.process].granted(
                    grant, asked: first.asked, now: answeredAt, policy: policy)
                admittedAt += Array(repeating: answeredAt, count: outcome.admitted)
                if let again = outcome.askAgain {
                    operations += 1
                    inFlight.append((first.process, again, answeredAt))
                }
            }
            let process = turn % 4
            turn += 1
            switch leases[process].take(now: now, policy: policy) {
            case .admitted:
                admittedAt.append(now)
            case .admittedAndRefill(let tokens):
                admittedAt.append(now)
                operations += 1
                inFlight.append((process, tokens, now))
            case .ask(let tokens):
                operations += 1
                inFlight.append((process, tokens, now))
            case .wait, .denied:
                break
            }
        }
        let ttlSeconds = Double(policy.ttl) / 1e9
        for windowSeconds in [1.0, 10.0] {
            let window = UInt64(windowSeconds * 1e9)
            let bound = Double(burst) + rate * (windowSeconds + ttlSeconds)
            var low = 0
            var most = 0
            for high in admittedAt.indices {
                while admittedAt[high] - admittedAt[low] >= window { low += 1 }
                most = max(most, high - low + 1)
            }
            #expect(Double(most) <= bound, "\(most) admitted in \(windowSeconds) s; bound \(bound)")
        }
        let runSeconds = 20.0
        #expect(Double(admittedAt.count) >= 0.97 * rate * runSeconds, "\(admittedAt.count) admitted")
        #expect(Double(operations) <= 0.1 * Double(admittedAt.count), "\(operations) Redis operations")
    }

    private func full(_ tokens: Int) -> ClusterGrant {
        ClusterGrant(granted: tokens, remaining: 50, resetNanoseconds: 0, retryAfterNanoseconds: 0)
    }
}
