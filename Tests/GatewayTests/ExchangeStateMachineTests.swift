import Testing

@testable import Gateway

@Suite struct ExchangeStateMachineTests {
    @Test func completesAndReusesTheUpstreamConnection() {
        var machine = ExchangeStateMachine()
        #expect(machine.connectionReady() == .sendRequest)
        #expect(machine.responseHeadReceived() == .forwardResponseHead)
        #expect(machine.responseComplete(reusable: true) == .finish(reuseUpstream: true))
        #expect(machine.state == .finished(.completed))
    }

    @Test func connectFailureBecomesAGatewayError() {
        var machine = ExchangeStateMachine()
        guard case .respondWithError(let error) = machine.connectFailed("refused") else {
            Issue.record("expected an error response")
            return
        }
        #expect(error.kind == .upstreamConnectFailed)
        #expect(error.status == 502)
        #expect(machine.state == .finished(.failed(.upstreamConnectFailed)))
    }

    @Test(arguments: [
        (ExchangeStateMachine.State.connecting, ProxyError.Kind.deadlineExceeded),
        (.awaitingResponseHead, .deadlineExceeded),
    ])
    func deadlineBeforeTheHeadIs504(state: ExchangeStateMachine.State, kind: ProxyError.Kind) {
        var machine = ExchangeStateMachine()
        if state == .awaitingResponseHead { _ = machine.connectionReady() }
        guard case .respondWithError(let error) = machine.deadlineExpired() else {
            Issue.record("expected an error response")
            return
        }
        #expect(error.kind == kind)
        #expect(error.status == 504)
    }

    @Test func failuresAfterTheHeadTruncateTheResponse() {
        for event in 0..<3 {
            var machine = ExchangeStateMachine()
            _ = machine.connectionReady()
            _ = machine.responseHeadReceived()
            let action: ExchangeStateMachine.Action
            switch event {
            case 0: action = machine.deadlineExpired()
            case 1: action = machine.upstreamClosed("reset")
            default: action = machine.upstreamBadResponse("bad chunk")
            }
            #expect(action == .abortClient)
            #expect(machine.state == .finished(.truncated))
        }
    }

    @Test func upstreamResetBeforeTheHeadIs502Reset() {
        var machine = ExchangeStateMachine()
        _ = machine.connectionReady()
        guard case .respondWithError(let error) = machine.upstreamClosed("closed") else {
            Issue.record("expected an error response")
            return
        }
        #expect(error.code == "upstream_reset")
    }

    @Test func clientLeavingCancelsOnceAndLaterEventsAreIgnored() {
        var machine = ExchangeStateMachine()
        _ = machine.connectionReady()
        #expect(machine.clientGone() == .cancelUpstream)
        #expect(machine.state == .finished(.cancelled))
        #expect(machine.clientGone() == .none)
        #expect(machine.responseHeadReceived() == .none)
        #expect(machine.deadlineExpired() == .none)
        #expect(machine.upstreamClosed("late") == .none)
    }

    @Test func errorCodesAndStatusesFollowTheTable() {
        let table: [(ProxyError.Kind, Int, String)] = [
            (.badRequest, 400, "bad_request"), (.noRoute, 404, "no_route"),
            (.requestTimeout, 408, "request_timeout"),
            (.payloadTooLarge, 413, "payload_too_large"), (.uriTooLong, 414, "uri_too_long"),
            (.headersTooLarge, 431, "headers_too_large"), (.rateLimited, 429, "rate_limited"),
            (.notImplemented, 501, "not_implemented"), (.versionNotSupported, 505, "version_not_supported"),
            (.upstreamConnectFailed, 502, "upstream_connect_failed"), (.upstreamReset, 502, "upstream_reset"),
            (.upstreamBadResponse, 502, "upstream_bad_response"),
            (.noHealthyUpstream, 503, "no_healthy_upstream"),
            (.circuitOpen, 503, "circuit_open"), (.upstreamOverloaded, 503, "upstream_overloaded"),
            (.deadlineExceeded, 504, "deadline_exceeded"),
        ]
        for (kind, status, code) in table {
            let error = ProxyError(kind, "x")
            #expect(error.status == status)
            #expect(error.code == code)
        }
    }
}
