import Gateway
import Testing

@Suite struct AttemptVerdictTests {
    @Test(arguments: [
        (100, AttemptVerdict.success), (101, .success), (200, .success), (204, .success),
        (304, .success), (404, .success), (429, .success), (499, .success),
        (500, .failure), (502, .failure), (503, .failure), (504, .failure), (599, .failure),
    ])
    func anyFiveHundredStatusIsAFailure(status: Int, verdict: AttemptVerdict) {
        #expect(AttemptVerdict(status: status) == verdict)
    }

    @Test(arguments: [
        (AttemptEnd.answered(status: 503), AttemptVerdict.failure, false),
        (.answered(status: 429), .success, false), (.answered(status: 409), .success, false),
        (.upstreamFailed, .failure, true), (.inconclusive, .inconclusive, false),
    ])
    func aRetriedAttemptCountsByHowItEnded(ending: AttemptEnd, verdict: AttemptVerdict, countsAsFailure: Bool)
    {
        #expect(AttemptVerdict(ending) == verdict)
        #expect(ending.countsAsFailure == countsAsFailure)
    }

    @Test(arguments: [
        (ProxyError.Kind.upstreamConnectFailed, true), (.upstreamReset, true), (.upstreamBadResponse, true),
        (.deadlineExceeded, true), (.badRequest, false), (.requestTimeout, false), (.payloadTooLarge, false),
        (.rateLimited, false), (.circuitOpen, false), (.upstreamOverloaded, false),
        (.noHealthyUpstream, false),
    ])
    func aGatewayErrorBlamesTheUpstreamOnlyWhenItCausedIt(kind: ProxyError.Kind, blamed: Bool) {
        #expect(ProxyError(kind, "").isUpstreamFailure == blamed)
    }

    @Test func theBreakerTakesTheVerdicts() {
        let config = CircuitBreakerConfig(failureThreshold: 2, openDuration: .seconds(1))
        let now = Instant(nanoseconds: 1_000_000_000)
        let breaker = CircuitBreaker()
        breaker.record(AttemptVerdict(.upstreamFailed), of: .allowed, at: now, config)
        breaker.record(AttemptVerdict(status: 200), of: .allowed, at: now, config)
        breaker.record(AttemptVerdict(status: 503), of: .allowed, at: now, config)
        #expect(breaker.state.phase == .closed(failures: 1))
        #expect(breaker.record(AttemptVerdict(.upstreamFailed), of: .allowed, at: now, config) == .opened)
    }
}
