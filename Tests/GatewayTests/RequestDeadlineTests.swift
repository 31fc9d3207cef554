import Testing

@testable import Gateway

@Suite struct RequestDeadlineTests {
    private func budget(_ routeMs: Int, _ header: String?) -> TimeSpan? {
        guard let header else {
            return RequestDeadline.budget(routeTimeout: .milliseconds(routeMs), clientHeader: nil)
        }
        return Array(header.utf8).withUnsafeBytes {
            RequestDeadline.budget(routeTimeout: .milliseconds(routeMs), clientHeader: $0)
        }
    }

    @Test(arguments: [
        // route timeout, client header, budget (ms; nil: none)
        (15000, nil as String?, 15000 as Int?),
        (15000, "200", 200),
        (200, "15000", 200),
        (0, nil, nil),
        (0, "300", 300),
        (15000, "0", 15000),
        (15000, "-5", 15000),
        (15000, " 5", 15000),
        (15000, "5ms", 15000),
        (15000, "1234567890123", 15000),
        (15000, "", 15000),
    ])
    func theClientCanOnlyShortenTheRouteTimeout(route: Int, header: String?, expected: Int?) {
        #expect(budget(route, header) == expected.map { .milliseconds($0) })
    }

    @Test func anAttemptEndsAtTheRequestDeadlineOrItsOwnWhicheverIsFirst() {
        let start = Instant(nanoseconds: 10_000_000_000)
        let request = start + .seconds(1)
        #expect(
            RequestDeadline.attemptDeadline(request: request, attemptStart: start, perTry: .zero) == request)
        #expect(
            RequestDeadline.attemptDeadline(request: request, attemptStart: start, perTry: .milliseconds(200))
                == start + .milliseconds(200))
        #expect(
            RequestDeadline.attemptDeadline(request: request, attemptStart: start, perTry: .seconds(5))
                == request)
        #expect(
            RequestDeadline.attemptDeadline(request: nil, attemptStart: start, perTry: .milliseconds(200))
                == start + .milliseconds(200))
        #expect(RequestDeadline.attemptDeadline(request: nil, attemptStart: start, perTry: .zero) == nil)
        #expect(
            RequestDeadline.attemptBudget(request: .seconds(1), perTry: .milliseconds(300))
                == .milliseconds(300))
        #expect(RequestDeadline.attemptBudget(request: nil, perTry: .milliseconds(300)) == .milliseconds(300))
        #expect(RequestDeadline.attemptBudget(request: .seconds(1), perTry: .zero) == .seconds(1))
        #expect(RequestDeadline.attemptBudget(request: nil, perTry: .zero) == nil)
    }

    @Test func theUpstreamHearsWhatIsLeftRoundedUp() {
        let now = Instant(nanoseconds: 5_000_000_000)
        #expect(RequestDeadline.millisecondsLeft(until: now + .milliseconds(250), now: now) == 250)
        #expect(RequestDeadline.millisecondsLeft(until: now + .microseconds(1500), now: now) == 2)
        #expect(RequestDeadline.millisecondsLeft(until: now, now: now) == 0)
        #expect(RequestDeadline.millisecondsLeft(until: now - .seconds(1), now: now) == 0)
    }
}
