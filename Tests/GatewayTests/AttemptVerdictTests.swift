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
        AttemptFailure.connectFailed("refused"), .reset("reset by peer"), .badResponse("bad status line"),
        .perTryTimeout,
    ])
    func everyFailedAttemptIsAFailure(failure: AttemptFailure) {
        #expect(AttemptVerdict(failure) == .failure)
    }

    @Test(arguments: [
        (ProxyError.Kind.upstreamConnectFailed, AttemptVerdict.failure), (.upstreamReset, .failure),
        (.upstreamBadResponse, .failure), (.deadlineExceeded, .failure),
        (.badRequest, .inconclusive), (.requestTimeout, .inconclusive), (.payloadTooLarge, .inconclusive),
        (.rateLimited, .inconclusive), (.circuitOpen, .inconclusive), (.upstreamOverloaded, .inconclusive),
        (.noHealthyUpstream, .inconclusive),
    ])
    func aGatewayErrorIsAFailureOnlyWhenTheUpstreamCausedIt(kind: ProxyError.Kind, verdict: AttemptVerdict) {
        #expect(AttemptVerdict(ProxyError(kind, "")) == verdict)
    }

    @Test func theBreakerTakesTheVerdicts() {
        let config = CircuitBreakerConfig(failureThreshold: 2, openDuration: .seconds(1))
        let now = Instant(nanoseconds: 1_000_000_000)
        let breaker = CircuitBreaker()
        breaker.record(AttemptVerdict(.reset("")), of: .allowed, at: now, config)
        breaker.record(AttemptVerdict(status: 200), of: .allowed, at: now, config)
        breaker.record(AttemptVerdict(status: 503), of: .allowed, at: now, config)
        #expect(breaker.state.phase == .closed(failures: 1))
        #expect(breaker.record(AttemptVerdict(.perTryTimeout), of: .allowed, at: now, config) == .opened)
    }
}
