import Gateway
import PorticoTesting
import Testing

/// Instants as milliseconds after a base of 1000 s (second 1000 of the monotonic clock).
private func at(_ milliseconds: Int) -> Instant {
    Instant(nanoseconds: 1_000_000_000_000) + .milliseconds(milliseconds)
}

@Suite struct RetryBudgetTests {
    @Test(arguments: [
        // requests, budgetPercent, retries allowed
        (0, 20.0, 3),
        (4, 20.0, 3),
        (5, 20.0, 4),
        (10, 20.0, 5),
        (14, 20.0, 5),
        (15, 20.0, 6),
        (1000, 20.0, 203),
        (100, 0.0, 3),
        (100, 12.5, 15),
        (7, 100.0, 10),
        (7, 250.0, 20),
        (-1, 20.0, 3),
        (100, -5.0, 3),
        (100, Double.nan, 3),
        (Int.max, 1e300, 1_000_000_000_000_003),
    ])
    func allowsAShareOfTheRequestsPlusThree(requests: Int, percent: Double, allowed: Int) {
        #expect(RetryBudget.allowedRetries(requests: requests, budgetPercent: percent) == allowed)
    }

    @Test func takesRetriesUntilTheShareIsSpent() {
        let budget = RetryBudget()
        for _ in 0..<10 { budget.recordRequest(at: at(0)) }
        let taken = (0..<8).map { _ in budget.tryAcquireRetry(at: at(500), budgetPercent: 20) }
        #expect(taken == [true, true, true, true, true, false, false, false])
        #expect(budget.usage(at: at(500)) == RetryBudget.Usage(requests: 10, retries: 5))
    }

    @Test func aRefusedRetryIsNotCounted() {
        let budget = RetryBudget()
        for _ in 0..<3 { #expect(budget.tryAcquireRetry(at: at(0), budgetPercent: 20)) }
        #expect(!budget.tryAcquireRetry(at: at(0), budgetPercent: 20))
        #expect(!budget.tryAcquireRetry(at: at(0), budgetPercent: 20))
        #expect(budget.usage(at: at(0)).retries == 3)
        // New requests raise the allowance again: 15 requests at 20% allow 3 + 3.
        for _ in 0..<15 { budget.recordRequest(at: at(1)) }
        #expect(budget.usage(at: at(1)) == RetryBudget.Usage(requests: 15, retries: 3))
        let taken = (0..<4).map { _ in budget.tryAcquireRetry(at: at(1), budgetPercent: 20) }
        #expect(taken == [true, true, true, false])
    }

    /// The window is the current second and the nine before it: a request at 1000.999 s still
    /// counts at 1009.999 s and no longer at 1010.000 s.
    @Test(arguments: [
        // ms after the base, requests in the window, retries in the window
        (0, 10, 5),
        (999, 10, 5),
        (5_000, 10, 5),
        (9_999, 10, 5),
        (10_000, 0, 0),
        (25_000, 0, 0),
    ])
    func theWindowIsTenWholeSeconds(now: Int, requests: Int, retries: Int) {
        let budget = RetryBudget()
        for _ in 0..<10 { budget.recordRequest(at: at(999)) }
        for _ in 0..<5 { #expect(budget.tryAcquireRetry(at: at(0), budgetPercent: 20)) }
        #expect(budget.usage(at: at(now)) == RetryBudget.Usage(requests: requests, retries: retries))
    }

    @Test func retriesOfEarlierSecondsCountUntilTheyLeaveTheWindow() {
        let budget = RetryBudget()
        let clock = ManualClock(start: at(0))
        for _ in 0..<3 { #expect(budget.tryAcquireRetry(at: clock.now, budgetPercent: 20)) }
        for second in 1...9 {
            clock.advance(by: .seconds(1))
            #expect(!budget.tryAcquireRetry(at: clock.now, budgetPercent: 20), "second \(second)")
        }
        clock.advance(by: .seconds(1))
        #expect(budget.tryAcquireRetry(at: clock.now, budgetPercent: 20))
        #expect(budget.usage(at: clock.now) == RetryBudget.Usage(requests: 0, retries: 1))
    }

    @Test func slidesSecondBySecond() {
        let budget = RetryBudget()
        // 25 requests in each of seconds 0, 1 and 2; at 20% each second's requests allow 5.
        for second in 0..<3 {
            for _ in 0..<25 { budget.recordRequest(at: at(second * 1_000)) }
        }
        var taken: [Int] = []
        for second in 0..<21 {
            let now = at(second * 1_000 + 500)
            taken.append((0..<30).filter { _ in budget.tryAcquireRetry(at: now, budgetPercent: 20) }.count)
        }
        // Second 0: 25 requests allow 5 + 3 = 8. Seconds 1 and 2 add 5 each. Second 10 drops
        // second 0's requests and retries: 50 requests allow 13, 10 in the window, 3 more.
        // Second 11 drops second 1's: 25 requests allow 8, and 8 are in the window. From
        // second 12 no request is left and second 10's 3 retries fill the window until
        // second 20 drops them.
        #expect(
            taken == [8, 5, 5] + Array(repeating: 0, count: 7) + [3] + Array(repeating: 0, count: 9) + [3])
    }

    @Test func aStaleSlotStartsAfreshInItsNewSecond() {
        let budget = RetryBudget()
        for _ in 0..<50 { budget.recordRequest(at: at(0)) }
        budget.recordRequest(at: at(10_000))
        #expect(budget.usage(at: at(10_000)) == RetryBudget.Usage(requests: 1, retries: 0))
        // A reading 10 s older than its slot's second is not counted.
        budget.recordRequest(at: at(0))
        #expect(budget.usage(at: at(10_000)).requests == 1)
    }

    @Test func aLaggingReadingCountsItsRetryInTheNewestSecond() {
        let budget = RetryBudget()
        for _ in 0..<10 { budget.recordRequest(at: at(0)) }
        #expect(budget.tryAcquireRetry(at: at(9_000), budgetPercent: 20))
        // A loop whose reading is still in second 8 shares second 9's window.
        for _ in 0..<4 { #expect(budget.tryAcquireRetry(at: at(8_999), budgetPercent: 20)) }
        #expect(!budget.tryAcquireRetry(at: at(8_999), budgetPercent: 20))
        #expect(budget.usage(at: at(8_000)) == RetryBudget.Usage(requests: 10, retries: 5))
        #expect(budget.usage(at: at(10_000)) == RetryBudget.Usage(requests: 0, retries: 5))
        #expect(budget.usage(at: at(19_000)) == RetryBudget.Usage(requests: 0, retries: 0))
    }

    // MARK: Exactness across threads

    @Test func countsEveryRequestWhenAllThreadsRecordAtOnce() {
        let budget = RetryBudget()
        concurrently(threads: 8) { index in
            for step in 0..<5_000 {
                // Threads straddle a second boundary: the new second's slot is reset once.
                budget.recordRequest(at: at(step < 2_500 ? 999 : 1_000 + index))
            }
        }
        #expect(budget.usage(at: at(1_000)) == RetryBudget.Usage(requests: 40_000, retries: 0))
    }

    @Test func admitsExactlyTheBudgetWhenAllThreadsRetryAtOnce() {
        let budget = RetryBudget()
        for _ in 0..<8_000 { budget.recordRequest(at: at(0)) }
        let taken = SharedCounter()
        concurrently(threads: 8) { _ in
            for _ in 0..<1_000 {
                if budget.tryAcquireRetry(at: at(300), budgetPercent: 20) { taken.add(1) }
            }
        }
        #expect(taken.value == 1_603)
        #expect(budget.usage(at: at(300)) == RetryBudget.Usage(requests: 8_000, retries: 1_603))
    }

    /// Threads whose readings fall in different seconds of one window share one budget: the
    /// newest second moves on under them and the earlier seconds' counts are stored on the way.
    @Test func threadsInDifferentSecondsShareOneBudgetExactly() {
        let budget = RetryBudget()
        for _ in 0..<5_000 { budget.recordRequest(at: at(0)) }
        let taken = SharedCounter()
        concurrently(threads: 10) { index in
            for step in 0..<2_000 {
                let now = at(((index + step) % 10) * 1_000 + 500)
                if budget.tryAcquireRetry(at: now, budgetPercent: 10) { taken.add(1) }
            }
        }
        #expect(taken.value == 503)
        #expect(budget.usage(at: at(9_000)) == RetryBudget.Usage(requests: 5_000, retries: 503))
    }

    @Test func neverAdmitsMoreThanTheBudgetWhileRequestsArrive() {
        let budget = RetryBudget()
        let taken = SharedCounter()
        let requests = SharedCounter()
        concurrently(threads: 8) { index in
            for step in 0..<4_000 {
                let now = at(index * 1_000 + step / 2)  // all within seconds 0...8 of the base
                if step % 3 == 0 {
                    budget.recordRequest(at: now)
                    requests.add(1)
                } else if budget.tryAcquireRetry(at: now, budgetPercent: 25) {
                    taken.add(1)
                }
            }
        }
        let usage = budget.usage(at: at(9_999))
        // Every retry lies in the last window; each was admitted against no more requests and
        // no fewer retries than the window holds now, so the total keeps the bound.
        #expect(usage.retries == taken.value)
        #expect(taken.value <= RetryBudget.allowedRetries(requests: usage.requests, budgetPercent: 25))
        #expect(usage.requests == requests.value)
        #expect(requests.value == 8 * 1_334)
    }
}
