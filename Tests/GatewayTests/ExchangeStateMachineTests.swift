import HTTP1
import Testing

@testable import Gateway

/// The exchange's edges, events in and actions out, without sockets.
@Suite struct ExchangeStateMachineTests {
    typealias Machine = ExchangeStateMachine
    static let now = Instant(nanoseconds: 1_000_000_000)

    static func request(
        idempotent: Bool = true, http11: Bool = true, keepAlive: Bool = true, body: Bool = false,
        expectsContinue: Bool = false, upgrade: Bool = false
    ) -> ExchangeRequest {
        ExchangeRequest(
            isIdempotent: idempotent, clientIsHTTP11: http11, clientKeepAlive: keepAlive, hasBody: body,
            expectsContinue: expectsContinue, wantsUpgrade: upgrade)
    }

    /// Retries a failed connect once: the policy every table-driven event runs under.
    static let retrying = RetryPolicy(
        maxRetries: 1, conditions: [.connectFailure], retriableStatuses: [], retryNonIdempotent: false,
        backoffBase: .milliseconds(10), backoffMax: .milliseconds(100))

    static let ok = ExchangeResponse(status: 200, framing: .contentLength(2), upstreamKeepsAlive: true)

    /// A machine driven to a named point of its life.
    enum Point: String, CaseIterable, CustomStringConvertible {
        case connecting, awaitingHead, awaitingHeadOnReused, headPending, headSent, backingOff, tunnelling
        case completed, failed, truncated, cancelled

        var description: String { rawValue }

        func machine() -> Machine {
            let retrying = RetryPolicy(
                maxRetries: 1, conditions: [.connectFailure], retriableStatuses: [],
                retryNonIdempotent: false,
                backoffBase: .milliseconds(10), backoffMax: .milliseconds(100))
            var machine = Machine(
                request: ExchangeStateMachineTests.request(upgrade: self == .tunnelling),
                deadline: ExchangeStateMachineTests.now + .seconds(10))
            let now = ExchangeStateMachineTests.now
            _ = machine.start()
            switch self {
            case .connecting:
                break
            case .awaitingHead:
                _ = machine.connectionReady(reused: false)
            case .awaitingHeadOnReused:
                _ = machine.connectionReady(reused: true)
            case .headPending, .headSent, .completed, .truncated:
                _ = machine.connectionReady(reused: false)
                _ = machine.responseHeadReceived(
                    ExchangeStateMachineTests.ok, bodyBuffered: true, lastRequestOfDrain: false, now: now,
                    policy: retrying)
                if self != .headPending { machine.responseHeadSent() }
                if self == .completed { _ = machine.responseBodyComplete() }
                if self == .truncated { _ = machine.upstreamEnded(now: now, policy: retrying) }
            case .backingOff:
                _ = machine.attemptFailed(.connectFailed("refused"), now: now, policy: retrying)
            case .tunnelling:
                _ = machine.connectionReady(reused: false)
                _ = machine.interimResponseReceived(status: 101, now: now, policy: retrying)
            case .failed:
                _ = machine.deadlineExpired(upstreamBackedUp: false)
            case .cancelled:
                _ = machine.clientGone()
            }
            return machine
        }
    }

    /// Every event the shell can report.
    enum Event: String, CaseIterable, CustomStringConvertible {
        case start, connectionReady, requestBodyComplete, interim103, responseHead, responseBodyComplete
        case upstreamEnded, connectFailed, reset, badResponse, perTryTimeout, backoffElapsed, deadline, idle
        case clientBodyFailed, clientGone

        var description: String { rawValue }

        func send(to machine: inout Machine) -> Machine.Action {
            let now = ExchangeStateMachineTests.now
            switch self {
            case .start: return machine.start()
            case .connectionReady: return machine.connectionReady(reused: false)
            case .requestBodyComplete: return machine.requestBodyComplete()
            case .interim103:
                return machine.interimResponseReceived(
                    status: 103, now: now, policy: ExchangeStateMachineTests.retrying)
            case .responseHead:
                return machine.responseHeadReceived(
                    ExchangeStateMachineTests.ok, bodyBuffered: true, lastRequestOfDrain: false, now: now,
                    policy: ExchangeStateMachineTests.retrying)
            case .responseBodyComplete: return machine.responseBodyComplete()
            case .upstreamEnded:
                return machine.upstreamEnded(now: now, policy: ExchangeStateMachineTests.retrying)
            case .connectFailed:
                return machine.attemptFailed(
                    .connectFailed("refused"), now: now, policy: ExchangeStateMachineTests.retrying)
            case .reset:
                return machine.attemptFailed(
                    .reset("reset"), now: now, policy: ExchangeStateMachineTests.retrying)
            case .badResponse:
                return machine.attemptFailed(
                    .badResponse("bad"), now: now, policy: ExchangeStateMachineTests.retrying)
            case .perTryTimeout:
                return machine.perTryTimeoutExpired(
                    upstreamBackedUp: false, now: now, policy: ExchangeStateMachineTests.retrying)
            case .backoffElapsed: return machine.backoffElapsed()
            case .deadline: return machine.deadlineExpired(upstreamBackedUp: false)
            case .idle: return machine.idleTimeout(upstreamBackedUp: false)
            case .clientBodyFailed:
                return machine.clientBodyFailed(ProxyError(.badRequest, "bad chunk"))
            case .clientGone: return machine.clientGone()
            }
        }
    }

    // MARK: Every event at every point

    /// Once finished, nothing an event says changes anything: late timers, a second close,
    /// a response after a cancel.
    @Test(arguments: [Point.completed, .failed, .truncated, .cancelled], Event.allCases)
    func finishedExchangesIgnoreEveryEvent(point: Point, event: Event) {
        var machine = point.machine()
        let phase = machine.phase
        #expect(event.send(to: &machine) == .none)
        #expect(machine.phase == phase)
    }

    /// The action and resulting phase for each event at each live point.
    @Test(arguments: [Point.connecting, .awaitingHead, .awaitingHeadOnReused, .headPending, .headSent])
    func eventsBeforeAndDuringTheResponse(point: Point) {
        let error504 = ProxyError(.deadlineExceeded, "the request deadline passed before a response arrived")
        let beforeHead = point == .connecting || point == .awaitingHead || point == .awaitingHeadOnReused
        for event in Event.allCases {
            var machine = point.machine()
            let action = event.send(to: &machine)
            switch (event, point) {
            case (.clientGone, _):
                #expect(action == .cancel, "\(event) at \(point)")
                #expect(machine.phase == .finished(.cancelled))
            case (.deadline, .headSent):
                #expect(action == .abort(upstreamFailed: true), "the upstream was too slow")
                #expect(machine.phase == .finished(.truncated))
            case (.deadline, .headPending):
                #expect(
                    action == .respond(error504, closeClient: false, withdrawHead: true, upstreamFailed: true)
                )
            case (.deadline, _):
                #expect(
                    action
                        == .respond(error504, closeClient: false, withdrawHead: false, upstreamFailed: true))
                #expect(machine.phase == .finished(.failed(.deadlineExceeded)))
            case (.clientBodyFailed, .headSent):
                #expect(action == .abort(upstreamFailed: false))
            case (.clientBodyFailed, _):
                #expect(
                    action
                        == .respond(
                            ProxyError(.badRequest, "bad chunk"), closeClient: true,
                            withdrawHead: point == .headPending, upstreamFailed: false))
                #expect(machine.phase == .finished(.failed(.badRequest)), "a client error is not a cancel")
            case (.start, .connecting):
                #expect(action == .connect(pickServer: false))
            case (.connectionReady, .connecting):
                #expect(action == .sendRequest(answerContinue: false))
                #expect(machine.phase == .awaitingHead)
            case (.responseHead, _) where point == .awaitingHead || point == .awaitingHeadOnReused:
                #expect(
                    action
                        == .forwardResponseHead(
                            ResponsePlan(framing: .contentLength, closeClient: false, holdForBody: false)))
                #expect(machine.phase == .responding)
            case (.interim103, _) where point == .awaitingHead || point == .awaitingHeadOnReused:
                #expect(action == .forwardInterim)
            case (.responseBodyComplete, _) where !beforeHead:
                #expect(action == .complete(reuseUpstream: true, closeClient: false))
                #expect(machine.phase == .finished(.completed))
            case (.connectFailed, _) where beforeHead:
                // The point's policy retries connect failures once.
                #expect(machine.phase == .backingOff, "\(point)")
                guard case .retry = action else {
                    Issue.record("expected a retry at \(point), got \(action)")
                    continue
                }
            case (.reset, .awaitingHeadOnReused), (.upstreamEnded, .awaitingHeadOnReused):
                #expect(action == .resendOnNewConnection)
                #expect(machine.phase == .connecting)
            case (.reset, _), (.upstreamEnded, _), (.badResponse, _), (.connectFailed, _):
                if beforeHead {
                    guard case .respond(let error, _, false, _) = action else {
                        Issue.record("expected an error response for \(event) at \(point), got \(action)")
                        continue
                    }
                    #expect(error.status == 502)
                } else if point == .headPending {
                    guard case .respond(let error, _, true, _) = action else {
                        Issue.record("expected the head withdrawn for \(event), got \(action)")
                        continue
                    }
                    #expect(error.status == 502)
                } else {
                    #expect(action == .abort(upstreamFailed: true), "\(event) at \(point)")
                    #expect(machine.phase == .finished(.truncated))
                }
            case (.perTryTimeout, _) where beforeHead:
                #expect(
                    action
                        == .respond(
                            ProxyError(
                                .deadlineExceeded, "the attempt's deadline passed before a response arrived"),
                            closeClient: false, withdrawHead: false, upstreamFailed: true))
            case (.idle, _) where beforeHead:
                guard case .respond(let error, false, false, _) = action else {
                    Issue.record("expected a 504 at \(point), got \(action)")
                    continue
                }
                #expect(error.kind == .deadlineExceeded)
            case (.idle, .headPending):
                guard case .respond(let error, _, true, _) = action else {
                    Issue.record("expected a withdrawn head, got \(action)")
                    continue
                }
                #expect(error.kind == .deadlineExceeded)
            case (.idle, .headSent):
                #expect(action == .abort(upstreamFailed: true))
            default:
                #expect(action == .none, "\(event) at \(point) should be ignored, got \(action)")
            }
        }
    }

    @Test func backoffWaitsThenConnectsToAnotherServer() {
        for event in Event.allCases {
            var machine = Point.backingOff.machine()
            let action = event.send(to: &machine)
            switch event {
            case .backoffElapsed:
                #expect(action == .connect(pickServer: true))
                #expect(machine.phase == .connecting)
                #expect(machine.attempt == 2)
            case .deadline:
                #expect(
                    action
                        == .respond(
                            ProxyError(
                                .deadlineExceeded, "the request deadline passed before a response arrived"),
                            closeClient: false, withdrawHead: false, upstreamFailed: true))
            case .clientGone:
                #expect(action == .cancel)
            case .idle:
                guard case .respond(let error, _, _, _) = action else {
                    Issue.record("expected a 504, got \(action)")
                    continue
                }
                #expect(error.kind == .deadlineExceeded)
            case .clientBodyFailed:
                #expect(
                    action
                        == .respond(
                            ProxyError(.badRequest, "bad chunk"), closeClient: true, withdrawHead: false,
                            upstreamFailed: false))
            default:
                #expect(action == .none, "\(event) while backing off, got \(action)")
                #expect(machine.phase == .backingOff)
            }
        }
    }

    @Test func aRetryWithNoServerLeftEndsWithTheGivenError() {
        let open = ProxyError(.circuitOpen, "every remaining server's circuit is open")
        var machine = Point.backingOff.machine()
        #expect(machine.backoffElapsed() == .connect(pickServer: true))
        #expect(
            machine.noServerAvailable(open)
                == .respond(open, closeClient: false, withdrawHead: false, upstreamFailed: false))
        #expect(machine.phase == .finished(.failed(.circuitOpen)))
        var sending = Point.awaitingHead.machine()
        #expect(sending.noServerAvailable(open) == .none)
    }

    @Test func tunnelsEndOnEitherSideAndIgnoreTheDeadline() {
        for event in Event.allCases {
            var machine = Point.tunnelling.machine()
            let action = event.send(to: &machine)
            switch event {
            case .clientGone, .upstreamEnded, .reset, .badResponse, .connectFailed, .idle:
                #expect(action == .closeTunnel, "\(event)")
                #expect(machine.phase == .finished(.completed))
            default:
                #expect(action == .none, "\(event) in a tunnel, got \(action)")
                #expect(machine.phase == .tunnelling)
            }
        }
    }

    // MARK: Whole exchanges

    @Test func completesAndReusesTheUpstreamConnection() {
        var machine = Machine(request: Self.request())
        #expect(machine.start() == .connect(pickServer: false))
        #expect(machine.connectionReady(reused: false) == .sendRequest(answerContinue: false))
        machine.responseBytesArrived()
        #expect(
            machine.responseHeadReceived(
                Self.ok, bodyBuffered: false, lastRequestOfDrain: false, now: Self.now, policy: .none)
                == .forwardResponseHead(
                    ResponsePlan(framing: .contentLength, closeClient: false, holdForBody: true)))
        #expect(machine.isHoldingResponseHead)
        machine.responseHeadSent()
        #expect(!machine.isHoldingResponseHead)
        #expect(machine.responseBodyComplete() == .complete(reuseUpstream: true, closeClient: false))
        #expect(machine.phase == .finished(.completed))
        #expect(machine.responseBodyComplete() == .none)
    }

    @Test func anEarlyAnswerClosesTheClientAndDropsTheUpstream() {
        var machine = Machine(request: Self.request(idempotent: false, body: true))
        _ = machine.start()
        _ = machine.connectionReady(reused: false)
        machine.requestBodyStartedFlowing(kept: false)
        let action = machine.responseHeadReceived(
            Self.ok, bodyBuffered: true, lastRequestOfDrain: false, now: Self.now, policy: .none)
        #expect(
            action
                == .forwardResponseHead(
                    ResponsePlan(framing: .contentLength, closeClient: true, holdForBody: false)))
        #expect(machine.responseBodyComplete() == .complete(reuseUpstream: false, closeClient: true))
    }

    @Test func theResponseWaitsForTheRequestBodyToFinishFirst() {
        var machine = Machine(request: Self.request(idempotent: false, body: true))
        _ = machine.start()
        _ = machine.connectionReady(reused: false)
        #expect(machine.requestBodyComplete() == .none)
        _ = machine.responseHeadReceived(
            Self.ok, bodyBuffered: true, lastRequestOfDrain: false, now: Self.now, policy: .none)
        #expect(machine.responseBodyComplete() == .complete(reuseUpstream: true, closeClient: false))
    }

    @Test(arguments: [
        // framing, HTTP/1.1 client, upstream keeps alive, draining → framing to client, close, reuse
        (BodyFraming.none, true, true, false, ClientFraming.none, false, true),
        (.contentLength(0), true, true, false, .contentLength, false, true),
        (.chunked, true, true, false, .chunked, false, true),
        (.chunked, false, true, false, .closeDelimited, true, true),
        (.untilClose, true, true, false, .chunked, false, false),
        (.untilClose, false, true, false, .closeDelimited, true, false),
        (.contentLength(5), true, false, false, .contentLength, false, false),
        (.contentLength(5), true, true, true, .contentLength, true, true),
    ])
    func responseFramingAndConnectionReuse(
        framing: BodyFraming, http11: Bool, keepsAlive: Bool, draining: Bool, toClient: ClientFraming,
        closeClient: Bool, reuse: Bool
    ) {
        var machine = Machine(request: Self.request(http11: http11))
        _ = machine.start()
        _ = machine.connectionReady(reused: false)
        let response = ExchangeResponse(status: 200, framing: framing, upstreamKeepsAlive: keepsAlive)
        let action = machine.responseHeadReceived(
            response, bodyBuffered: false, lastRequestOfDrain: draining, now: Self.now, policy: .none)
        #expect(
            action
                == .forwardResponseHead(
                    ResponsePlan(framing: toClient, closeClient: closeClient, holdForBody: !framing.isEmpty)))
        machine.responseHeadSent()
        if framing == .untilClose {
            #expect(machine.upstreamEnded(now: Self.now, policy: .none) == .endCloseDelimitedBody)
        }
        #expect(machine.responseBodyComplete() == .complete(reuseUpstream: reuse, closeClient: closeClient))
    }

    @Test func interimResponsesReachHTTP11ClientsOnlyAnd100IsAlwaysDropped() {
        for http11 in [true, false] {
            var machine = Machine(request: Self.request(http11: http11))
            _ = machine.start()
            _ = machine.connectionReady(reused: false)
            #expect(
                machine.interimResponseReceived(status: 100, now: Self.now, policy: .none) == .dropInterim)
            #expect(
                machine.interimResponseReceived(status: 103, now: Self.now, policy: .none)
                    == (http11 ? .forwardInterim : .dropInterim))
            #expect(machine.phase == .awaitingHead)
        }
    }

    @Test func switchingProtocolsWithoutAnUpgradeRequestIsABadResponse() {
        var machine = Machine(request: Self.request())
        _ = machine.start()
        _ = machine.connectionReady(reused: false)
        guard
            case .respond(let error, _, _, _) = machine.interimResponseReceived(
                status: 101, now: Self.now, policy: .none)
        else {
            Issue.record("expected an error")
            return
        }
        #expect(error.kind == .upstreamBadResponse)
    }

    @Test func theGatewayAnswersOneContinuePerRequest() {
        var fresh = Machine(request: Self.request(body: true, expectsContinue: true))
        _ = fresh.start()
        #expect(fresh.connectionReady(reused: true) == .sendRequest(answerContinue: true))
        #expect(fresh.attemptFailed(.reset("stale"), now: Self.now, policy: .none) == .resendOnNewConnection)
        #expect(fresh.connectionReady(reused: false) == .sendRequest(answerContinue: false))
        var http10 = Machine(request: Self.request(http11: false, body: true, expectsContinue: true))
        _ = http10.start()
        #expect(http10.connectionReady(reused: false) == .sendRequest(answerContinue: false))
        #expect(
            ExchangeRequest(
                isIdempotent: true, clientIsHTTP11: true, clientKeepAlive: true, hasBody: false,
                expectsContinue: true
            ).expectsContinue == false)
    }

    // MARK: Stale pooled connections

    @Test(arguments: [
        // idempotent, has body, body started, response bytes seen, reused → resent
        (true, false, false, false, true, true),
        (false, false, false, false, true, true),
        (false, true, false, false, true, true),
        (false, true, true, false, true, false),
        (true, true, true, false, true, false),
        (true, false, false, true, true, false),
        (true, false, false, false, false, false),
    ])
    func aRequestMeetingAStaleConnectionIsSentOnceMore(
        idempotent: Bool, body: Bool, bodyStarted: Bool, responseSeen: Bool, reused: Bool, resent: Bool
    ) {
        var machine = Machine(request: Self.request(idempotent: idempotent, body: body))
        _ = machine.start()
        _ = machine.connectionReady(reused: reused)
        if bodyStarted { machine.requestBodyStartedFlowing(kept: false) }
        if responseSeen { machine.responseBytesArrived() }
        let action = machine.upstreamEnded(now: Self.now, policy: .none)
        if resent {
            #expect(action == .resendOnNewConnection)
            #expect(machine.attempt == 1, "a resend is not a retry")
            // Once only: the new connection failing too is the request's outcome.
            #expect(machine.connectionReady(reused: false) == .sendRequest(answerContinue: false))
            guard
                case .respond(let error, _, _, _) = machine.attemptFailed(
                    .reset("again"), now: Self.now, policy: .none)
            else {
                Issue.record("expected an error the second time")
                return
            }
            #expect(error.kind == .upstreamReset)
        } else {
            guard case .respond(let error, _, _, _) = action else {
                Issue.record("expected an error, got \(action)")
                return
            }
            #expect(error.kind == .upstreamReset)
        }
    }

    /// A body that left the client but was kept can go out again: an idempotent request is
    /// resent after a stale connection, and retried; one that was not kept cannot.
    @Test(arguments: [true, false])
    func aKeptBodyCanBeSentAgain(kept: Bool) {
        var stale = Machine(request: Self.request(idempotent: true, body: true))
        _ = stale.start()
        _ = stale.connectionReady(reused: true)
        stale.requestBodyStartedFlowing(kept: kept)
        let resend = stale.attemptFailed(.reset("closed"), now: Self.now, policy: .none)
        #expect((resend == .resendOnNewConnection) == kept)

        var retried = Machine(request: Self.request(idempotent: true, body: true))
        _ = retried.start()
        _ = retried.connectionReady(reused: false)
        retried.requestBodyStartedFlowing(kept: true)
        retried.requestBodyStartedFlowing(kept: kept)
        let action = retried.attemptFailed(.reset("reset"), now: Self.now, policy: Self.policy([.reset]))
        if case .retry = action {
            #expect(kept)
        } else {
            #expect(!kept, "a body lost once cannot be replayed")
        }
    }

    @Test func aMalformedAnswerOnAReusedConnectionIsNotResent() {
        var machine = Point.awaitingHeadOnReused.machine()
        machine.responseBytesArrived()
        guard
            case .respond(let error, _, _, _) = machine.attemptFailed(
                .badResponse("garbage"), now: Self.now, policy: .none)
        else {
            Issue.record("expected an error")
            return
        }
        #expect(error.kind == .upstreamBadResponse)
    }

    // MARK: Retries

    static func policy(
        _ conditions: [RetryCondition], maxRetries: Int = 2, statuses: [Int] = [],
        nonIdempotent: Bool = false
    ) -> RetryPolicy {
        RetryPolicy(
            maxRetries: maxRetries, conditions: RetryConditions(conditions), retriableStatuses: statuses,
            retryNonIdempotent: nonIdempotent, backoffBase: .milliseconds(25), backoffMax: .milliseconds(250))
    }

    @Test func retriesUntilAttemptsRunOutThenAnswersWithTheLastFailure() {
        var machine = Machine(
            request: Self.request(), deadline: nil, seed: 42)
        _ = machine.start()
        for retry in 1...2 {
            guard
                case .retry(let delay, .upstreamFailed) = machine.attemptFailed(
                    .connectFailed("refused"), now: Self.now, policy: Self.policy([.connectFailure]))
            else {
                Issue.record("expected retry \(retry)")
                return
            }
            #expect(delay >= .zero && delay <= min(.milliseconds(250), .milliseconds(25 * (1 << retry))))
            #expect(machine.backoffElapsed() == .connect(pickServer: true))
            #expect(machine.attempt == retry + 1)
        }
        guard
            case .respond(let error, _, _, _) = machine.attemptFailed(
                .connectFailed("refused"), now: Self.now, policy: Self.policy([.connectFailure]))
        else {
            Issue.record("expected the final error")
            return
        }
        #expect(error.kind == .upstreamConnectFailed)
    }

    @Test func nonIdempotentRequestsAreRetriedOnlyWhenTheyCannotHaveArrived() {
        let policy = Self.policy([.connectFailure, .reset])
        var post = Machine(request: Self.request(idempotent: false))
        _ = post.start()
        if case .retry = post.attemptFailed(.connectFailed("refused"), now: Self.now, policy: policy) {
        } else {
            Issue.record("a failed connect is retried for POST")
        }
        _ = post.backoffElapsed()
        _ = post.connectionReady(reused: false)
        guard case .respond = post.attemptFailed(.reset("reset"), now: Self.now, policy: policy) else {
            Issue.record("a reset POST is not retried")
            return
        }
        var allowed = Machine(request: Self.request(idempotent: false))
        _ = allowed.start()
        _ = allowed.connectionReady(reused: false)
        let nonIdempotent = Self.policy([.reset], nonIdempotent: true)
        if case .retry = allowed.attemptFailed(.reset("reset"), now: Self.now, policy: nonIdempotent) {
        } else {
            Issue.record("retryNonIdempotent allows it")
        }
    }

    @Test func noRetryStartsIfTheDeadlineWouldPassFirst() {
        let policy = RetryPolicy(
            maxRetries: 2, conditions: [.connectFailure], retriableStatuses: [], retryNonIdempotent: false,
            backoffBase: .seconds(10), backoffMax: .seconds(10))
        for seed: UInt64 in 0..<20 {
            var machine = Machine(
                request: Self.request(), deadline: Self.now + .milliseconds(1),
                seed: seed)
            _ = machine.start()
            let action = machine.attemptFailed(.connectFailed("refused"), now: Self.now, policy: policy)
            if case .retry(let delay, _) = action {
                #expect(delay < .milliseconds(1), "only a wait that ends before the deadline")
            } else {
                guard case .respond(let error, _, _, _) = action else {
                    Issue.record("expected the attempt's own outcome")
                    return
                }
                #expect(error.kind == .upstreamConnectFailed)
            }
        }
    }

    @Test func aBodyAlreadySentCannotBeRetried() {
        var machine = Machine(request: Self.request(body: true))
        _ = machine.start()
        _ = machine.connectionReady(reused: false)
        machine.requestBodyStartedFlowing(kept: false)
        guard
            case .respond = machine.attemptFailed(
                .reset("reset"), now: Self.now, policy: Self.policy([.reset]))
        else {
            Issue.record("expected no retry")
            return
        }
    }

    @Test func perTryTimeoutsAreRetriedWhenListedElse504() {
        var listed = Machine(request: Self.request())
        _ = listed.start()
        _ = listed.connectionReady(reused: false)
        if case .retry = listed.perTryTimeoutExpired(
            upstreamBackedUp: false, now: Self.now, policy: Self.policy([.perTryTimeout]))
        {
        } else {
            Issue.record("expected a retry")
        }
        var unlisted = Machine(request: Self.request())
        _ = unlisted.start()
        _ = unlisted.connectionReady(reused: false)
        guard
            case .respond(let error, _, _, _) = unlisted.perTryTimeoutExpired(
                upstreamBackedUp: false, now: Self.now, policy: Self.policy([.reset]))
        else {
            Issue.record("expected a 504")
            return
        }
        #expect(error.status == 504)
    }

    @Test func aRetriedStatusThatRunsOutOfAttemptsIsPassedThroughAsIs() {
        var machine = Machine(request: Self.request())
        let policy = Self.policy([.gatewayError], maxRetries: 1)
        let unavailable = ExchangeResponse(status: 503, framing: .contentLength(0), upstreamKeepsAlive: true)
        _ = machine.start()
        _ = machine.connectionReady(reused: false)
        guard
            case .retry = machine.responseHeadReceived(
                unavailable, bodyBuffered: false, lastRequestOfDrain: false, now: Self.now, policy: policy)
        else {
            Issue.record("expected a retry of the 503")
            return
        }
        _ = machine.backoffElapsed()
        _ = machine.connectionReady(reused: false)
        let last = machine.responseHeadReceived(
            unavailable, bodyBuffered: false, lastRequestOfDrain: false, now: Self.now, policy: policy)
        #expect(
            last
                == .forwardResponseHead(
                    ResponsePlan(framing: .contentLength, closeClient: false, holdForBody: false)))
    }

    @Test func aRetryAfterOnA503IsWaitedOutWhenItFitsTheDeadline() {
        let policy = Self.policy([.gatewayError], maxRetries: 1)
        for (retryAfter, fits) in [(TimeSpan.seconds(2), true), (.seconds(20), false)] {
            var machine = Machine(request: Self.request(), deadline: Self.now + .seconds(10))
            _ = machine.start()
            _ = machine.connectionReady(reused: false)
            let unavailable = ExchangeResponse(
                status: 503, framing: .contentLength(0), upstreamKeepsAlive: true, retryAfter: retryAfter)
            let action = machine.responseHeadReceived(
                unavailable, bodyBuffered: false, lastRequestOfDrain: false, now: Self.now, policy: policy)
            if fits {
                #expect(
                    action == .retry(after: retryAfter, ending: .answered(status: 503)),
                    "beyond the backoff's maximum")
            } else {
                #expect(
                    action
                        == .forwardResponseHead(
                            ResponsePlan(framing: .contentLength, closeClient: false, holdForBody: false)),
                    "a wait past the deadline is not made: the 503 goes to the client")
            }
        }
    }

    @Test func withoutADeadlineARetryAfterLongerThanTheIdleTimeoutIsNotWaitedFor() {
        var policy = Self.policy([.gatewayError], maxRetries: 1)
        policy.longestRequestedWait = .seconds(60)
        for (retryAfter, waits) in [(TimeSpan.seconds(30), true), (.seconds(600), false)] {
            var machine = Machine(request: Self.request(), deadline: nil)
            _ = machine.start()
            _ = machine.connectionReady(reused: false)
            let unavailable = ExchangeResponse(
                status: 503, framing: .contentLength(0), upstreamKeepsAlive: true, retryAfter: retryAfter)
            let action = machine.responseHeadReceived(
                unavailable, bodyBuffered: false, lastRequestOfDrain: false, now: Self.now, policy: policy)
            if waits {
                #expect(action == .retry(after: retryAfter, ending: .answered(status: 503)))
            } else {
                guard case .forwardResponseHead = action else {
                    Issue.record("expected the 503 passed through, got \(action)")
                    continue
                }
            }
        }
    }

    /// The shell is asked last, with how the attempt ended; when it says no (no server can
    /// take a retry, or the budget is spent) the attempt's own outcome stands.
    @Test func theShellIsAskedLastWithHowTheAttemptEnded() {
        let policy = Self.policy([.retriableStatus, .connectFailure], maxRetries: 1, statuses: [429])
        let limited = ExchangeResponse(status: 429, framing: .contentLength(0), upstreamKeepsAlive: true)
        for allowed in [true, false] {
            var asked: [AttemptEnd] = []
            var machine = Machine(request: Self.request())
            _ = machine.start()
            _ = machine.connectionReady(reused: false)
            let action = machine.responseHeadReceived(
                limited, bodyBuffered: false, lastRequestOfDrain: false, now: Self.now, policy: policy,
                mayRetry: {
                    asked.append($0)
                    return allowed
                })
            #expect(asked == [.answered(status: 429)])
            if allowed {
                #expect(action == .retry(after: action.retryDelay ?? .zero, ending: .answered(status: 429)))
            } else {
                guard case .forwardResponseHead = action else {
                    Issue.record("expected the 429 passed through, got \(action)")
                    continue
                }
            }
            var refused = Machine(request: Self.request())
            _ = refused.start()
            let failed = refused.attemptFailed(
                .connectFailed("refused"), now: Self.now, policy: policy, mayRetry: { _ in allowed })
            if allowed {
                #expect(failed.retryDelay != nil)
            } else {
                guard case .respond(let error, _, _, true) = failed else {
                    Issue.record("expected the connect failure answered, got \(failed)")
                    continue
                }
                #expect(error.kind == .upstreamConnectFailed)
            }
        }
    }

    /// Timing out while the client is still sending the body says nothing about the server;
    /// timing out while the upstream does not take the body does.
    @Test(arguments: [false, true])
    func timeoutsDuringTheUploadBlameWhoeverStalled(upstreamBackedUp: Bool) {
        func uploading() -> Machine {
            var machine = Machine(request: Self.request(body: true), deadline: Self.now + .seconds(1))
            _ = machine.start()
            _ = machine.connectionReady(reused: false)
            machine.requestBodyStartedFlowing(kept: false)
            return machine
        }
        var deadline = uploading()
        guard
            case .respond(let error, _, _, let blamed) = deadline.deadlineExpired(
                upstreamBackedUp: upstreamBackedUp)
        else {
            Issue.record("expected a 504")
            return
        }
        #expect(error.kind == .deadlineExceeded)
        #expect(blamed == upstreamBackedUp)

        var idle = uploading()
        guard
            case .respond(let idleError, true, false, let idleBlamed) = idle.idleTimeout(
                upstreamBackedUp: upstreamBackedUp)
        else {
            Issue.record("expected an error response")
            return
        }
        #expect(idleError.kind == (upstreamBackedUp ? .deadlineExceeded : .requestTimeout))
        #expect(idleBlamed == upstreamBackedUp)

        var perTry = uploading()
        guard
            case .respond(_, _, _, let perTryBlamed) = perTry.perTryTimeoutExpired(
                upstreamBackedUp: upstreamBackedUp, now: Self.now, policy: Self.policy([]))
        else {
            Issue.record("expected a 504")
            return
        }
        #expect(perTryBlamed == upstreamBackedUp)

        // A body small enough to be kept may be retried; the attempt counts the same way.
        var kept = Machine(request: Self.request(body: true))
        _ = kept.start()
        _ = kept.connectionReady(reused: false)
        kept.requestBodyStartedFlowing(kept: true)
        let retry = kept.perTryTimeoutExpired(
            upstreamBackedUp: upstreamBackedUp, now: Self.now, policy: Self.policy([.perTryTimeout]))
        #expect(retry.retryEnding == (upstreamBackedUp ? .upstreamFailed : .inconclusive))
    }

    @Test func aRetryThatMeetsAStaleConnectionIsResentToo() {
        var machine = Machine(request: Self.request())
        _ = machine.start()
        _ = machine.connectionReady(reused: true)
        let policy = Self.policy([.reset])
        #expect(
            machine.attemptFailed(.reset("stale"), now: Self.now, policy: policy) == .resendOnNewConnection)
        _ = machine.connectionReady(reused: false)
        #expect(machine.attemptFailed(.reset("reset"), now: Self.now, policy: policy).retryDelay != nil)
        #expect(machine.backoffElapsed() == .connect(pickServer: true))
        _ = machine.connectionReady(reused: true)
        #expect(
            machine.attemptFailed(.reset("stale"), now: Self.now, policy: policy) == .resendOnNewConnection,
            "a new attempt may meet a stale pooled connection as well")
    }

    // MARK: Policy

    @Test(arguments: [
        // condition listed, failure, idempotent → retried
        (RetryCondition.connectFailure, AttemptFailure.connectFailed("x"), false, true),
        (.connectFailure, .reset("x"), true, false),
        (.reset, .reset("x"), true, true),
        (.reset, .reset("x"), false, false),
        (.reset, .badResponse("x"), true, true),
        (.perTryTimeout, .perTryTimeout, true, true),
        (.perTryTimeout, .perTryTimeout, false, false),
        (.fiveXX, .reset("x"), true, false),
    ])
    func retryPolicyAllowsOnlyListedConditions(
        condition: RetryCondition, failure: AttemptFailure, idempotent: Bool, retried: Bool
    ) {
        #expect(Self.policy([condition]).allowsRetry(after: failure, idempotent: idempotent) == retried)
        #expect(RetryPolicy.none.allowsRetry(after: failure, idempotent: idempotent) == false)
    }

    @Test(arguments: [
        (RetryCondition.fiveXX, 500, true), (.fiveXX, 503, true), (.fiveXX, 404, false),
        (.gatewayError, 502, true), (.gatewayError, 500, false), (.retriableStatus, 409, true),
        (.retriableStatus, 410, false),
    ])
    func retryPolicyStatuses(condition: RetryCondition, status: Int, retried: Bool) {
        let policy = Self.policy([condition], statuses: [409])
        #expect(policy.allowsRetry(afterStatus: status, idempotent: true) == retried)
        #expect(policy.allowsRetry(afterStatus: status, idempotent: false) == false)
    }

    @Test func statusSetsHoldEveryStatusCode() {
        let statuses = StatusSet([100, 163, 164, 409, 429, 503, 599])
        for status in 0...700 {
            #expect(
                statuses.contains(status) == [100, 163, 164, 409, 429, 503, 599].contains(status), "\(status)"
            )
        }
        #expect(StatusSet([600, 99]) == StatusSet())
    }

    @Test func backoffIsFullJitterUnderTheDoublingCeiling() {
        let policy = Self.policy([.reset])
        for retry in 1...6 {
            let ceiling = min(TimeSpan.milliseconds(250), .milliseconds(25) * (1 << retry))
            #expect(policy.backoff(beforeRetry: retry, random: 0) == .zero)
            #expect(policy.backoff(beforeRetry: retry, random: UInt64(ceiling.nanoseconds)) == ceiling)
            #expect(policy.backoff(beforeRetry: retry, random: .max) <= ceiling)
        }
    }

    @Test func policyFromConfiguration() {
        let policy = RetryPolicy(RetryConfig())
        #expect(policy.maxRetries == 2)
        #expect(policy.conditions == [.connectFailure, .reset])
        #expect(policy.retriableStatuses == StatusSet())
        #expect(policy.backoffBase == .milliseconds(25))
    }

    // MARK: Errors

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

extension ExchangeStateMachine.Action {
    /// A retry's wait, or nil for any other action.
    fileprivate var retryDelay: TimeSpan? {
        if case .retry(let delay, _) = self { return delay }
        return nil
    }

    /// How the attempt a retry follows ended, or nil for any other action.
    fileprivate var retryEnding: AttemptEnd? {
        if case .retry(_, let ending) = self { return ending }
        return nil
    }
}
