import RESP
import Testing

@testable import Gateway

/// The process-wide lease table and the pieces around the Redis call, on manual time.
@Suite struct ClusterLeaseTableTests {
    private let gcra = GCRA(requestsPerSecond: 100, burst: 10)
    private let ms: UInt64 = 1_000_000

    private func table(maxKeys: Int = 1000) -> ClusterLeaseTable<Int> {
        ClusterLeaseTable(gcra: gcra, policy: LeasePolicy(gcra: gcra), maxKeys: maxKeys)
    }

    private func grant(_ granted: Int, remaining: Int, retryAfterMs: UInt64 = 0) -> ClusterGrant {
        ClusterGrant(
            granted: granted, remaining: remaining, resetNanoseconds: 50 * ms,
            retryAfterNanoseconds: retryAfterMs * ms)
    }

    @Test func aQuietKeyAsksRedisForOneTokenAndTheParkedRequestTakesIt() throws {
        let leases = table()
        guard case .ask(let key, let tokens) = leases.take(key: 7, now: 0, waiter: 1) else {
            Issue.record("expected an ask")
            return
        }
        #expect(key == 7 && tokens == 1)
        let resolution = leases.granted(grant(1, remaining: 9), asked: 1, key: 7, now: 2 * ms)
        #expect(resolution.admitted.map(\.0) == [1])
        #expect(resolution.admitted.first?.1.remaining == 9)
        #expect(resolution.admitted.first?.1.resetNanoseconds == 50 * ms)
        #expect(resolution.refused.isEmpty && resolution.askAgain == nil)
    }

    @Test func requestsArrivingDuringTheCallWaitAndAShortGrantRefusesTheRestFromThenOn() {
        let leases = table()
        _ = leases.take(key: 7, now: 0, waiter: 1)
        for waiter in 2...4 {
            guard case .wait = leases.take(key: 7, now: ms, waiter: waiter) else {
                Issue.record("request \(waiter) should wait for the call on its way")
                return
            }
        }
        // The bucket had two tokens for the one asked for... and the crowd behind it.
        let resolution = leases.granted(
            grant(1, remaining: 0, retryAfterMs: 10), asked: 2, key: 7, now: 2 * ms)
        #expect(resolution.admitted.map(\.0) == [1])
        #expect(resolution.refused.map(\.0) == [2, 3, 4])
        #expect(resolution.refused.allSatisfy { !$0.1.admitted && $0.1.retryAfterNanoseconds > 0 })
        // Refusals are remembered: the next request costs no call.
        guard case .refused(let decision) = leases.take(key: 7, now: 3 * ms, waiter: 5) else {
            Issue.record("expected a refusal from the deny cache")
            return
        }
        #expect(decision.retryAfterNanoseconds > 0)
    }

    @Test func aWholeGrantSmallerThanTheCrowdIsAskedForAgain() {
        let leases = table()
        _ = leases.take(key: 7, now: 0, waiter: 1)
        _ = leases.take(key: 7, now: ms, waiter: 2)
        _ = leases.take(key: 7, now: ms, waiter: 3)
        let resolution = leases.granted(grant(1, remaining: 8), asked: 1, key: 7, now: 2 * ms)
        #expect(resolution.admitted.map(\.0) == [1])
        #expect(resolution.refused.isEmpty)
        #expect((resolution.askAgain ?? 0) >= 2)
        let next = leases.granted(
            grant(3, remaining: 5), asked: resolution.askAgain ?? 0, key: 7, now: 3 * ms)
        #expect(next.admitted.map(\.0) == [2, 3])
        // The third granted token is leased: the next request takes it without a call.
        guard case .admitted = leases.take(key: 7, now: 4 * ms, waiter: 4) else {
            Issue.record("expected a leased admission")
            return
        }
    }

    @Test func aFailedCallHandsEveryParkedRequestToTheFallbackAndTheNextOneAsksAgain() {
        let leases = table()
        _ = leases.take(key: 7, now: 0, waiter: 1)
        _ = leases.take(key: 7, now: ms, waiter: 2)
        #expect(leases.failed(key: 7) == [1, 2])
        guard case .ask = leases.take(key: 7, now: 2 * ms, waiter: 3) else {
            Issue.record("expected a new call after the failure")
            return
        }
    }

    @Test func beyondMaxKeysNewKeysShareTheOverflowBucket() {
        let leases = table(maxKeys: 2)
        _ = leases.take(key: 1, now: 0, waiter: 1)
        _ = leases.take(key: 2, now: 0, waiter: 2)
        guard case .ask(let key, _) = leases.take(key: 3, now: 0, waiter: 3) else {
            Issue.record("expected an ask")
            return
        }
        #expect(key == ClusterLeaseTable<Int>.overflowKey)
        #expect(leases.trackedKeyCount == 2)
    }

    @Test func idleLeasesAreForgottenAndTheirUnusedTokensCounted() {
        let leases = table()
        // Keys of one shard (the top six bits choose it), each granted more than it used.
        for index in 0..<64 {
            let key = UInt64(index + 1)
            _ = leases.take(key: key, now: 0, waiter: index)
            _ = leases.granted(grant(3, remaining: 7), asked: 3, key: key, now: ms)
        }
        #expect(leases.trackedKeyCount == 64)
        // A second later every lease has expired: the next new key sweeps them away.
        _ = leases.take(key: 1000, now: 1_000 * ms, waiter: 99)
        #expect(leases.trackedKeyCount == 1)
        #expect(leases.expiredUnusedTokens == 64 * 2)
    }

    // MARK: The backend breaker

    @Test func theBreakerTripsAfterThreeFailuresInARowAndProbesAfterTheCooldown() {
        var breaker = BackendBreaker(threshold: 3, cooldownNanoseconds: 1_000 * ms)
        // A success in between starts the count again.
        let tripped = [
            breaker.callFailed(now: 0),
            {
                breaker.callSucceeded()
                return false
            }(),
            breaker.callFailed(now: 0), breaker.callFailed(now: 0), breaker.callFailed(now: 0),
        ]
        #expect(tripped == [false, false, false, false, true])
        #expect(breaker.isOpen)
        // One probe after the cooldown; others keep the fallback until it answers.
        let allowed = [
            breaker.allowsCall(now: 999 * ms), breaker.allowsCall(now: 1_000 * ms),
            breaker.allowsCall(now: 1_000 * ms),
        ]
        #expect(allowed == [false, true, false])
        breaker.callFailed(now: 1_001 * ms)
        let afterFailedProbe = [breaker.allowsCall(now: 1_500 * ms), breaker.allowsCall(now: 2_001 * ms)]
        #expect(afterFailedProbe == [false, true])
        breaker.callSucceeded()
        #expect(!breaker.isOpen)
        let closed = breaker.allowsCall(now: 2_002 * ms)
        #expect(closed)
    }

    // MARK: Replies

    @Test func repliesAreGrantsScriptMissesOrBackendErrorsByKind() {
        let grantReply = RESPValue.array([.integer(2), .integer(3), .integer(40_000), .integer(0)])
        #expect(
            ClusterReply(grantReply, wanted: 2)
                == .grant(
                    ClusterGrant(
                        granted: 2, remaining: 3, resetNanoseconds: 40 * ms, retryAfterNanoseconds: 0)))
        let errors: [(String, ClusterReply)] = [
            ("NOSCRIPT No matching script. Please use EVAL.", .scriptMissing),
            ("LOADING Redis is loading the dataset in memory", .failed(.loading)),
            ("BUSY Redis is busy running a script.", .failed(.busy)),
            ("READONLY You can't write against a read only replica.", .failed(.readonly)),
            ("NOAUTH Authentication required.", .failed(.reply)),
            ("ERR Error running script", .failed(.reply)),
        ]
        for (text, expected) in errors {
            #expect(ClusterReply(.error(Array(text.utf8)), wanted: 1) == expected, "\(text)")
        }
        // Anything else is a reply of the wrong shape: never a grant.
        #expect(
            ClusterReply(.array([.integer(5), .integer(0), .integer(0), .integer(0)]), wanted: 2)
                == .failed(.reply))
        #expect(ClusterReply(.array([.bulkString(nil)]), wanted: 1) == .failed(.reply))
        #expect(ClusterReply(.array(nil), wanted: 1) == .failed(.reply))
        #expect(ClusterReply(.simpleString(Array("OK".utf8)), wanted: 1) == .failed(.reply))
    }

    @Test func scriptCallsNameTheScriptByItsSHA1() {
        let key = ClusterGCRAScript.key(route: "api", clientKey: 1)
        let cached = ClusterGCRAScript.cachedCall(key: key, gcra, wanted: 4)
        #expect(cached[0] == Array("EVALSHA".utf8))
        #expect(cached[1] == Array(SHA1.hex(Array(ClusterGCRAScript.source.utf8)).utf8))
        #expect(cached[1].count == 40)
        #expect(Array(cached[2...3]) == [Array("1".utf8), key])
        let full = ClusterGCRAScript.fullCall(key: key, gcra, wanted: 4)
        #expect(full[1] == Array(ClusterGCRAScript.source.utf8))
        #expect(Array(full[2...]) == Array(cached[2...]))
    }
}
