import Gateway
import PorticoTesting
import Synchronization
import Testing

/// Instants as milliseconds after a base of 100 s, so tables read as timelines.
private func at(_ milliseconds: Int) -> Instant {
    Instant(nanoseconds: 100_000_000_000) + .milliseconds(milliseconds)
}

private let config = CircuitBreakerConfig(
    failureThreshold: 3, openDuration: .milliseconds(10_000), halfOpenMaxRequests: 2)

private func closed(_ failures: Int, gen: UInt16 = 0) -> CircuitBreakerState {
    CircuitBreakerState(.closed(failures: failures), generation: gen)
}

private func open(_ since: Instant, gen: UInt16 = 1) -> CircuitBreakerState {
    CircuitBreakerState(.open(since: since), generation: gen)
}

private func halfOpen(_ trials: Int, gen: UInt16 = 1) -> CircuitBreakerState {
    CircuitBreakerState(.halfOpen(trials: trials), generation: gen)
}

/// One event of the breaker.
private enum Event: Sendable, CustomStringConvertible {
    case admit(Instant)
    case succeeded(CircuitBreakerAdmission)
    case failed(CircuitBreakerAdmission, Instant)
    case released(CircuitBreakerAdmission)

    var description: String {
        switch self {
        case .admit(let now): return "admit(\(now.nanoseconds / 1_000_000)ms)"
        case .succeeded(let admission): return "succeeded(\(admission))"
        case .failed(let admission, let now): return "failed(\(admission), \(now.nanoseconds / 1_000_000)ms)"
        case .released(let admission): return "released(\(admission))"
        }
    }
}

/// What an event returns.
private enum Answer: Sendable, Equatable {
    case admission(CircuitBreakerAdmission)
    case transition(CircuitBreakerTransition?)
}

/// One row of the transition table: a state, an event, what it returns and the state after.
private struct Transition: Sendable, CustomTestStringConvertible {
    var start: CircuitBreakerState
    var event: Event
    var answer: Answer
    var end: CircuitBreakerState

    init(_ start: CircuitBreakerState, _ event: Event, _ answer: Answer, _ end: CircuitBreakerState) {
        self.start = start
        self.event = event
        self.answer = answer
        self.end = end
    }

    var testDescription: String { "\(start) + \(event) → \(end)" }

    func apply(to state: inout CircuitBreakerState) -> Answer {
        switch event {
        case .admit(let now): return .admission(state.admit(at: now, config))
        case .succeeded(let admission): return .transition(state.succeeded(admission))
        case .failed(let admission, let now): return .transition(state.failed(admission, at: now, config))
        case .released(let admission):
            state.released(admission)
            return .transition(nil)
        }
    }

    func apply(to breaker: CircuitBreaker) -> Answer {
        switch event {
        case .admit(let now): return .admission(breaker.admit(at: now, config))
        case .succeeded(let admission): return .transition(breaker.succeeded(admission))
        case .failed(let admission, let now): return .transition(breaker.failed(admission, at: now, config))
        case .released(let admission):
            breaker.released(admission)
            return .transition(nil)
        }
    }
}

private let unchanged = Answer.transition(nil)
private let trial1 = CircuitBreakerAdmission.trial(generation: 1)

// failureThreshold 3, openMs 10000, halfOpenMaxRequests 2.
private let transitions: [Transition] = [
    // Closed: attempts flow; failures count up to the threshold; a success resets them.
    Transition(closed(0), .admit(at(0)), .admission(.allowed), closed(0)),
    Transition(closed(2), .admit(at(0)), .admission(.allowed), closed(2)),
    Transition(closed(0), .failed(.allowed, at(0)), unchanged, closed(1)),
    Transition(closed(1), .failed(.allowed, at(0)), unchanged, closed(2)),
    Transition(closed(2), .failed(.allowed, at(7)), .transition(.opened), open(at(7))),
    Transition(closed(2), .succeeded(.allowed), unchanged, closed(0)),
    Transition(closed(0), .succeeded(.allowed), unchanged, closed(0)),
    Transition(closed(1), .released(.allowed), unchanged, closed(1)),
    // Closed after another trial closed it: a late trial's verdict counts like any attempt's.
    Transition(closed(1, gen: 1), .failed(trial1, at(0)), unchanged, closed(2, gen: 1)),
    Transition(closed(1, gen: 1), .succeeded(trial1), unchanged, closed(0, gen: 1)),
    Transition(closed(1, gen: 1), .released(trial1), unchanged, closed(1, gen: 1)),
    // Opening rounds opened-at up to a whole millisecond; the generation wraps.
    Transition(
        closed(2), .failed(.allowed, at(7) + .microseconds(1)), .transition(.opened), open(at(8))),
    Transition(closed(2, gen: 65535), .failed(.allowed, at(7)), .transition(.opened), open(at(7), gen: 0)),
    // Open: refused for openMs, then the first admission is a trial and the word turns half-open.
    Transition(open(at(0)), .admit(at(0)), .admission(.refused), open(at(0))),
    Transition(open(at(0)), .admit(at(9_999)), .admission(.refused), open(at(0))),
    Transition(
        open(at(0)), .admit(at(10_000) - .nanoseconds(1)), .admission(.refused), open(at(0))),
    Transition(open(at(0)), .admit(at(10_000)), .admission(trial1), halfOpen(1)),
    Transition(open(at(0)), .admit(at(3_600_000)), .admission(trial1), halfOpen(1)),
    Transition(
        open(at(0), gen: 9), .admit(at(10_000)), .admission(.trial(generation: 9)), halfOpen(1, gen: 9)),
    // Open: late verdicts of ordinary attempts and of earlier trials change nothing, and a
    // failure does not restart openMs.
    Transition(open(at(0)), .succeeded(.allowed), unchanged, open(at(0))),
    Transition(open(at(0)), .failed(.allowed, at(5_000)), unchanged, open(at(0))),
    Transition(open(at(0)), .succeeded(.trial(generation: 0)), unchanged, open(at(0))),
    Transition(open(at(0)), .failed(.trial(generation: 0), at(5_000)), unchanged, open(at(0))),
    Transition(open(at(0)), .released(.trial(generation: 0)), unchanged, open(at(0))),
    // Half-open: up to halfOpenMaxRequests trials at a time.
    Transition(halfOpen(0), .admit(at(20_000)), .admission(trial1), halfOpen(1)),
    Transition(halfOpen(1), .admit(at(20_000)), .admission(trial1), halfOpen(2)),
    Transition(halfOpen(2), .admit(at(20_000)), .admission(.refused), halfOpen(2)),
    Transition(halfOpen(2), .admit(at(99_000)), .admission(.refused), halfOpen(2)),
    // Half-open: a trial's success closes, its failure opens again (a new openMs and
    // generation), a trial without a verdict gives its slot back.
    Transition(halfOpen(1), .succeeded(trial1), .transition(.closed), closed(0, gen: 1)),
    Transition(halfOpen(2), .succeeded(trial1), .transition(.closed), closed(0, gen: 1)),
    Transition(halfOpen(2), .failed(trial1, at(25_000)), .transition(.opened), open(at(25_000), gen: 2)),
    Transition(halfOpen(2), .released(trial1), unchanged, halfOpen(1)),
    Transition(halfOpen(1), .released(trial1), unchanged, halfOpen(0)),
    // Half-open: only this period's trials decide.
    Transition(halfOpen(1), .succeeded(.allowed), unchanged, halfOpen(1)),
    Transition(halfOpen(1), .failed(.allowed, at(25_000)), unchanged, halfOpen(1)),
    Transition(halfOpen(1, gen: 2), .succeeded(trial1), unchanged, halfOpen(1, gen: 2)),
    Transition(halfOpen(1, gen: 2), .failed(trial1, at(25_000)), unchanged, halfOpen(1, gen: 2)),
    Transition(halfOpen(1, gen: 2), .released(trial1), unchanged, halfOpen(1, gen: 2)),
]

@Suite struct CircuitBreakerTests {
    @Test(arguments: transitions)
    fileprivate func everyTransitionOfThePureState(_ row: Transition) {
        var state = row.start
        #expect(row.apply(to: &state) == row.answer)
        #expect(state == row.end)
    }

    @Test(arguments: transitions)
    fileprivate func theSharedBreakerMakesTheSameTransitions(_ row: Transition) {
        let breaker = CircuitBreaker(row.start)
        #expect(row.apply(to: breaker) == row.answer)
        #expect(breaker.state == row.end)
    }

    @Test(arguments: [
        // state, now (ms after the base), reported circuit, whether an attempt would be admitted
        (closed(0), 0, StatsReport.Circuit.closed, true),
        (closed(2), 0, .closed, true),
        (open(at(0)), 0, .open, false),
        (open(at(0)), 9_999, .open, false),
        (open(at(0)), 10_000, .halfOpen, true),
        (open(at(0)), 50_000, .halfOpen, true),
        (halfOpen(0), 0, .halfOpen, true),
        (halfOpen(1), 0, .halfOpen, true),
        (halfOpen(2), 0, .halfOpen, false),
    ])
    func reportsHalfOpenAsSoonAsOpenMsHasPassed(
        state: CircuitBreakerState, now: Int, circuit: StatsReport.Circuit, admits: Bool
    ) {
        #expect(state.circuit(at: at(now), config) == circuit)
        #expect(state.wouldAdmit(at: at(now), config) == admits)
        let breaker = CircuitBreaker(state)
        #expect(breaker.circuit(at: at(now), config) == circuit)
        #expect(breaker.wouldAdmit(at: at(now), config) == admits)
    }

    @Test func theReportedStateIsSpelledAsStatsSpellIt() {
        #expect(
            [StatsReport.Circuit.closed, .open, .halfOpen].map(\.rawValue) == ["closed", "open", "half_open"])
    }

    @Test func opensAfterFiveFailuresWithTheDefaults() {
        let defaults = CircuitBreakerConfig()
        let clock = ManualClock()
        let breaker = CircuitBreaker()
        for _ in 0..<4 {
            #expect(breaker.failed(breaker.admit(at: clock.now, defaults), at: clock.now, defaults) == nil)
        }
        #expect(breaker.circuit(at: clock.now, defaults) == .closed)
        #expect(breaker.failed(breaker.admit(at: clock.now, defaults), at: clock.now, defaults) == .opened)
        #expect(breaker.admit(at: clock.now, defaults) == .refused)
        clock.advance(by: .milliseconds(9_999))
        #expect(breaker.circuit(at: clock.now, defaults) == .open)
        #expect(breaker.admit(at: clock.now, defaults) == .refused)
        clock.advance(by: .milliseconds(1))
        #expect(breaker.circuit(at: clock.now, defaults) == .halfOpen)
        let trial = breaker.admit(at: clock.now, defaults)
        #expect(trial == .trial(generation: 1))
        #expect(breaker.admit(at: clock.now, defaults) == .refused)
        #expect(breaker.succeeded(trial) == .closed)
        #expect(breaker.circuit(at: clock.now, defaults) == .closed)
        #expect(breaker.admit(at: clock.now, defaults) == .allowed)
    }

    @Test func aSuccessResetsTheFailuresInARow() {
        let breaker = CircuitBreaker()
        let now = at(0)
        for failing in [true, true, false, true, true, false, true, true] {
            if failing {
                breaker.failed(.allowed, at: now, config)
            } else {
                breaker.succeeded(.allowed)
            }
        }
        #expect(breaker.state == closed(2))
        #expect(breaker.failed(.allowed, at: now, config) == .opened)
    }

    @Test func aFailedTrialOpensForAnotherOpenMs() {
        let breaker = CircuitBreaker(open(at(0)))
        let trial = breaker.admit(at: at(10_000), config)
        #expect(breaker.failed(trial, at: at(10_500), config) == .opened)
        #expect(breaker.state == open(at(10_500), gen: 2))
        #expect(breaker.admit(at: at(20_499), config) == .refused)
        #expect(breaker.admit(at: at(20_500), config) == .trial(generation: 2))
    }

    @Test func aTrialWithoutAVerdictGivesItsSlotBack() {
        let breaker = CircuitBreaker(open(at(0)))
        let first = breaker.admit(at: at(10_000), config)
        let second = breaker.admit(at: at(10_000), config)
        #expect(breaker.admit(at: at(10_000), config) == .refused)
        breaker.record(.inconclusive, of: first, at: at(10_001), config)
        let third = breaker.admit(at: at(10_002), config)
        #expect(third == trial1)
        #expect(breaker.record(.failure, of: second, at: at(10_003), config) == .opened)
        // The third trial now belongs to a period that ended: its verdict is ignored.
        #expect(breaker.record(.success, of: third, at: at(10_004), config) == nil)
        #expect(breaker.state == open(at(10_003), gen: 2))
    }

    @Test func theSettingsOfEachEventApplyToTheStateCarriedOver() {
        var state = closed(4)
        let lowered = CircuitBreakerConfig(failureThreshold: 2, openDuration: .milliseconds(100))
        #expect(state.failed(.allowed, at: at(0), lowered) == .opened)
        #expect(state.circuit(at: at(100), lowered) == .halfOpen)
        #expect(state.circuit(at: at(100), config) == .open)
    }

    @Test func packsIntoOneWordAsDocumented() {
        #expect(CircuitBreakerState().bits == 0)
        #expect(CircuitBreakerState() == closed(0))
        #expect(closed(4, gen: 3).bits == 3 << 46 | 4)
        #expect(open(Instant(nanoseconds: 5_000_000_000), gen: 3).bits == UInt64(1) << 62 | 3 << 46 | 5_000)
        #expect(halfOpen(2, gen: 65535).bits == UInt64(2) << 62 | 65535 << 46 | 2)
        // Opened-at covers every Instant.
        let latest = open(.distantFuture, gen: 1)
        #expect(latest.phase == .open(since: .distantFuture))
        #expect(latest.circuit(at: .distantFuture, config) == .halfOpen)
        for state in [closed(65535, gen: 12), open(at(123), gen: 7), halfOpen(65535, gen: 40000)] {
            #expect(CircuitBreakerState(bits: state.bits) == state)
            #expect(CircuitBreakerState(state.phase, generation: state.generation) == state)
        }
    }

    // MARK: Exactness across threads

    @Test func countsEveryFailureWhenAllThreadsReportAtOnce() {
        let threads = 8
        let perThread = 8_000  // the threshold is at most 65535
        let exact = CircuitBreakerConfig(
            failureThreshold: threads * perThread + 1, openDuration: .seconds(10), halfOpenMaxRequests: 1)
        let breaker = CircuitBreaker()
        concurrently(threads: threads) { _ in
            for _ in 0..<perThread {
                breaker.failed(breaker.admit(at: at(0), exact), at: at(0), exact)
            }
        }
        #expect(breaker.state == closed(threads * perThread))
        #expect(breaker.failed(.allowed, at: at(1), exact) == .opened)
    }

    /// The threshold is reached in the middle of the threads' work, while they all report.
    @Test func opensExactlyOnceAtTheThresholdUnderConcurrency() {
        let threads = 8
        let threshold = CircuitBreakerConfig(
            failureThreshold: 50_000, openDuration: .seconds(10), halfOpenMaxRequests: 1)
        let breaker = CircuitBreaker()
        let openings = SharedCounter()
        let admitted = SharedCounter()
        concurrently(threads: threads) { _ in
            for _ in 0..<10_000 {
                let admission = breaker.admit(at: at(0), threshold)
                guard admission.isAllowed else { continue }
                admitted.add(1)
                if breaker.failed(admission, at: at(0), threshold) == .opened { openings.add(1) }
            }
        }
        #expect(openings.value == 1)
        #expect(breaker.state == open(at(0)))
        // Each thread has at most one attempt outstanding: when the 50,000th failure opened the
        // circuit, at most threads - 1 other admitted attempts were still to report (ignored).
        #expect((50_000...(50_000 + threads - 1)).contains(admitted.value))
    }

    @Test func neverHasMoreTrialsInFlightThanTheLimit() {
        let limit = CircuitBreakerConfig(
            failureThreshold: 1, openDuration: .seconds(10), halfOpenMaxRequests: 3)
        let breaker = CircuitBreaker(open(at(0)))
        let inFlight = SharedCounter()
        let most = SharedCounter()
        let trials = SharedCounter()
        let ordinary = SharedCounter()
        concurrently(threads: 8) { _ in
            for _ in 0..<20_000 {
                let admission = breaker.admit(at: at(10_000), limit)
                switch admission {
                case .refused: continue
                case .allowed: ordinary.add(1)
                case .trial:
                    trials.add(1)
                    most.raise(to: inFlight.add(1))
                    inFlight.add(-1)
                }
                breaker.released(admission)
            }
        }
        #expect(ordinary.value == 0)
        #expect(trials.value > 0)
        #expect(most.value <= 3)
        #expect(breaker.state == halfOpen(0))
    }

    @Test func admitsExactlyTheLimitOfTrialsWhenAllThreadsAskAtOnce() {
        let limit = CircuitBreakerConfig(
            failureThreshold: 1, openDuration: .seconds(10), halfOpenMaxRequests: 5)
        let breaker = CircuitBreaker(open(at(0)))
        let trials = SharedCounter()
        concurrently(threads: 8) { _ in
            for _ in 0..<1_000 {
                if breaker.admit(at: at(10_000), limit) != .refused { trials.add(1) }
            }
        }
        #expect(trials.value == 5)
        #expect(breaker.state == halfOpen(5))
    }

    @Test func failingTrialsReopenOnceAndTheOthersAreIgnored() {
        let limit = CircuitBreakerConfig(
            failureThreshold: 1, openDuration: .seconds(10), halfOpenMaxRequests: 8)
        let breaker = CircuitBreaker(open(at(0)))
        let admissions = (0..<8).map { _ in breaker.admit(at: at(10_000), limit) }
        #expect(admissions.allSatisfy { $0 == trial1 })
        let openings = SharedCounter()
        concurrently(threads: 8) { index in
            if breaker.failed(admissions[index], at: at(10_001), limit) == .opened { openings.add(1) }
        }
        #expect(openings.value == 1)
        #expect(breaker.state == open(at(10_001), gen: 2))
    }

    /// Threads admit and report random verdicts while the clock moves, so the breaker cycles
    /// through every phase many times. Trials are counted per generation: a late trial of an
    /// earlier period does not hold a slot of the current one.
    @Test func keepsEveryLimitWhileCyclingThroughAllPhases() {
        let limit = CircuitBreakerConfig(
            failureThreshold: 4, openDuration: .milliseconds(2), halfOpenMaxRequests: 2)
        let clock = ManualClock(start: at(0))
        let breaker = CircuitBreaker()
        let generations = TrialCounts()
        let most = SharedCounter()
        let openings = SharedCounter()
        concurrently(threads: 8) { index in
            var random = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
            for step in 0..<20_000 {
                random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                if index == 0 && step % 16 == 0 { clock.advance(by: .microseconds(500)) }
                let admission = breaker.admit(at: clock.now, limit)
                if case .trial(let generation) = admission {
                    most.raise(to: generations.enter(generation))
                }
                guard admission.isAllowed else { continue }
                let verdict: AttemptVerdict = [.success, .failure, .failure, .inconclusive][Int(random >> 62)]
                if case .trial(let generation) = admission { generations.leave(generation) }
                if breaker.record(verdict, of: admission, at: clock.now, limit) == .opened { openings.add(1) }
            }
        }
        #expect(most.value <= 2)
        #expect(openings.value > 1)
        #expect(Int(breaker.state.generation) == openings.value % 65536)
        switch breaker.state.phase {
        case .closed(let failures): #expect(failures < 4)
        case .open: break
        case .halfOpen(let trials): #expect(trials == 0)
        }
    }
}

/// Trials in flight per breaker generation, counted by the test's threads (atomics behind a
/// pointer allocated once, hence unchecked).
private final class TrialCounts: @unchecked Sendable {
    private let counts: UnsafeMutablePointer<Atomic<Int>>

    init() {
        counts = .allocate(capacity: 65536)
        for index in 0..<65536 { (counts + index).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: 65536)
        counts.deallocate()
    }

    /// Counts a trial of `generation` in; returns the count in flight.
    func enter(_ generation: UInt16) -> Int {
        counts[Int(generation)].add(1, ordering: .relaxed).newValue
    }

    func leave(_ generation: UInt16) {
        counts[Int(generation)].subtract(1, ordering: .relaxed)
    }
}
