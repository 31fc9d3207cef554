import Synchronization

/// One server's circuit breaker, shared by every worker: the packed ``CircuitBreakerState`` in
/// one `Atomic<UInt64>`, changed only by compare-and-swap loops that apply its pure transitions.
///
/// Every event is one transition from the word read to the word written, so "N consecutive
/// failures" and "at most `halfOpenMaxRequests` trials" hold exactly however many workers report
/// at once: a worker whose compare-and-swap loses reapplies its event to the newer word.
///
/// The hot path costs one atomic load and no compare-and-swap: ``admit(at:_:)`` on a closed
/// circuit returns after checking the phase bits of the loaded word, and a transition that
/// leaves the word unchanged (a success with no failures counted, a refusal, an outcome the
/// breaker ignores) is not written back. Loads and swaps are relaxed: the word publishes no
/// other memory, and all swaps of one atomic are totally ordered anyway.
///
/// Settings come with each event, so a reload that changes `circuitBreaker` applies at once to
/// the state carried over (docs/operations.md, "What is kept across a reload").
package final class CircuitBreaker: Sendable {
    private let word: Atomic<UInt64>

    /// A breaker in `state`; a fresh one is closed with no failures.
    package init(_ state: CircuitBreakerState = CircuitBreakerState()) {
        word = Atomic(state.bits)
    }

    /// The state as of now (one load); it may change right after.
    package var state: CircuitBreakerState {
        CircuitBreakerState(bits: word.load(ordering: .relaxed))
    }

    /// Decides whether an attempt may go to the server; see ``CircuitBreakerState/admit(at:_:)``.
    /// Every admission that is not `.refused` must later be reported exactly once, through
    /// ``succeeded(_:)``, ``failed(_:at:_:)``, ``released(_:)`` or ``record(_:of:at:_:)``.
    package func admit(at now: Instant, _ config: CircuitBreakerConfig) -> CircuitBreakerAdmission {
        let current = word.load(ordering: .relaxed)
        if CircuitBreakerState.isClosed(current) { return .allowed }
        return update(from: current) { $0.admit(at: now, config) }
    }

    /// Reports an attempt the server answered well; see ``CircuitBreakerState/succeeded(_:)``.
    @discardableResult
    package func succeeded(_ admission: CircuitBreakerAdmission) -> CircuitBreakerTransition? {
        update(from: word.load(ordering: .relaxed)) { $0.succeeded(admission) }
    }

    /// Reports an attempt the server failed; see ``CircuitBreakerState/failed(_:at:_:)``.
    @discardableResult
    package func failed(
        _ admission: CircuitBreakerAdmission, at now: Instant, _ config: CircuitBreakerConfig
    ) -> CircuitBreakerTransition? {
        update(from: word.load(ordering: .relaxed)) { $0.failed(admission, at: now, config) }
    }

    /// Reports an attempt that ended without a verdict; see ``CircuitBreakerState/released(_:)``.
    package func released(_ admission: CircuitBreakerAdmission) {
        update(from: word.load(ordering: .relaxed)) { $0.released(admission) }
    }

    /// Reports an attempt's ``AttemptVerdict``: a success, a failure or a release.
    @discardableResult
    package func record(
        _ verdict: AttemptVerdict, of admission: CircuitBreakerAdmission, at now: Instant,
        _ config: CircuitBreakerConfig
    ) -> CircuitBreakerTransition? {
        let current = word.load(ordering: .relaxed)
        // The steady state of a healthy server: one load, no transition to compute.
        if verdict == .success && CircuitBreakerState.isClosedWithoutFailures(current) { return nil }
        return update(from: current) { $0.record(verdict, of: admission, at: now, config) }
    }

    /// Whether ``admit(at:_:)`` would let an attempt through now, without taking a trial slot
    /// (one load): for a balancer's `excluding`, which asks about every server.
    package func wouldAdmit(at now: Instant, _ config: CircuitBreakerConfig) -> Bool {
        state.wouldAdmit(at: now, config)
    }

    /// The state `/stats` reports (one load).
    package func circuit(at now: Instant, _ config: CircuitBreakerConfig) -> StatsReport.Circuit {
        state.circuit(at: now, config)
    }

    /// Applies `transition` to the word, starting from the reading `start`, until a
    /// compare-and-swap succeeds or the transition leaves the word as it was.
    private func update<Result>(
        from start: UInt64, _ transition: (inout CircuitBreakerState) -> Result
    ) -> Result {
        var expected = start
        while true {
            var state = CircuitBreakerState(bits: expected)
            let result = transition(&state)
            if state.bits == expected { return result }
            let (exchanged, original) = word.compareExchange(
                expected: expected, desired: state.bits, ordering: .relaxed)
            if exchanged { return result }
            expected = original
        }
    }
}

/// Whether the breaker let an attempt through, and as what.
package enum CircuitBreakerAdmission: Sendable, Hashable {
    /// The circuit is closed: an ordinary attempt.
    case allowed
    /// The circuit is half-open: one of at most `halfOpenMaxRequests` trial attempts, whose
    /// verdict decides the circuit. `generation` tells a trial of the current half-open period
    /// from a late one of an earlier period.
    case trial(generation: UInt16)
    /// The circuit is open, or half-open with every trial slot taken: send nothing, report nothing.
    case refused

    /// Whether the attempt may be sent.
    package var isAllowed: Bool { self != .refused }
}

/// A change of a circuit caused by a verdict, worth a line in the process log.
package enum CircuitBreakerTransition: Sendable, Hashable {
    /// Closed → open (the failure threshold was reached) or half-open → open (a trial failed).
    case opened
    /// Half-open → closed (a trial succeeded).
    case closed
}

/// The whole state of one server's circuit breaker packed into one `UInt64`, with its transitions
/// as mutating methods: pure (time comes in as an `Instant`, settings as a
/// `CircuitBreakerConfig`), so ``CircuitBreaker`` applies them with compare-and-swap.
///
/// The circuit (docs/configuration.md, `circuitBreaker`): `failureThreshold` failures in a row
/// open it; while open it refuses every attempt for `openMs`; after that it lets up to
/// `halfOpenMaxRequests` trial attempts through at a time; a trial's success closes it, a trial's
/// failure opens it again for another `openMs`. A success while closed resets the failure count.
///
/// Packing (bit 63 the most significant); the all-zero word is a fresh, closed breaker:
///
/// | bits | field |
/// |---|---|
/// | 63–62 | phase: 0 closed, 1 open, 2 half-open (3 never occurs) |
/// | 61–46 | generation: incremented (wrapping) each time the circuit opens |
/// | 45–0 | closed: failures in a row; open: opened-at; half-open: trials in flight |
///
/// Limits of the packing:
/// - Failures in a row stop at `failureThreshold` (the circuit opens) and trials in flight at
///   `halfOpenMaxRequests`; both are at most 65535 (docs/configuration.md), far below 2^46.
/// - Opened-at is the monotonic reading in whole milliseconds, rounded up: 45 bits cover every
///   `Instant` (2^64 ns, about 584 years). Rounding up keeps the circuit open for at least
///   `openMs` and less than 1 ms more.
/// - Only the phase "open" is stored; "half-open" is reported as soon as `openMs` has passed, and
///   the word becomes half-open when the first trial is admitted.
/// - The generation tells a trial of this half-open period from a trial of an earlier one that
///   ended late (its verdict is ignored, and it gives back no slot). It wraps after 65,536
///   openings: a trial still in flight after exactly a multiple of 65,536 openings would be
///   taken for a current one.
package struct CircuitBreakerState: Sendable, Hashable, CustomStringConvertible {
    /// The packed word.
    package private(set) var bits: UInt64

    /// The phase with its payload, decoded.
    package enum Phase: Sendable, Hashable {
        /// Attempts flow; `failures` is the count of failures in a row.
        case closed(failures: Int)
        /// Attempts are refused until `openMs` after `since` (a whole millisecond).
        case open(since: Instant)
        /// `trials` trial attempts are in flight.
        case halfOpen(trials: Int)
    }

    /// A fresh breaker: closed, no failures, generation 0.
    package init() {
        bits = 0
    }

    /// The state a packed word holds; a word no state packs to is a bug and traps.
    package init(bits: UInt64) {
        precondition(bits >> Self.phaseShift != 3, "no circuit breaker state packs to \(bits)")
        self.bits = bits
    }

    /// The state in `phase` and `generation`; an open phase's instant is rounded up to a whole
    /// millisecond, counts above 2^46 - 1 trap.
    package init(_ phase: Phase, generation: UInt16 = 0) {
        switch phase {
        case .closed(let failures):
            bits = Self.pack(Self.closedPhase, generation, Self.count(failures))
        case .open(let since):
            bits = Self.pack(Self.openPhase, generation, Self.milliseconds(since))
        case .halfOpen(let trials):
            bits = Self.pack(Self.halfOpenPhase, generation, Self.count(trials))
        }
    }

    /// The phase and its payload.
    package var phase: Phase {
        switch phaseBits {
        case Self.closedPhase: return .closed(failures: Int(payload))
        case Self.openPhase: return .open(since: Self.instant(milliseconds: payload))
        default: return .halfOpen(trials: Int(payload))
        }
    }

    /// Incremented, wrapping, each time the circuit opens.
    package var generation: UInt16 {
        UInt16(truncatingIfNeeded: bits >> Self.generationShift)
    }

    /// For test failures and logs, e.g. `open(since: 5000ms) gen 3`.
    package var description: String {
        let phaseText: String
        switch phase {
        case .closed(let failures): phaseText = "closed(failures: \(failures))"
        case .open(let since): phaseText = "open(since: \(since.nanoseconds / 1_000_000)ms)"
        case .halfOpen(let trials): phaseText = "halfOpen(trials: \(trials))"
        }
        return "\(phaseText) gen \(generation)"
    }

    // MARK: Events

    /// Decides whether an attempt may go to the server now.
    ///
    /// Closed: `.allowed`, nothing changes. Open before `openMs` has passed: `.refused`. Open
    /// after it, or half-open with a free slot: `.trial`, taking a slot (the word becomes
    /// half-open). Half-open with every slot taken: `.refused`.
    package mutating func admit(at now: Instant, _ config: CircuitBreakerConfig) -> CircuitBreakerAdmission {
        switch phaseBits {
        case Self.closedPhase:
            return .allowed
        case Self.openPhase:
            guard now >= reopensAt(config) else { return .refused }
            set(Self.halfOpenPhase, generation, 1)
            return .trial(generation: generation)
        default:
            guard payload < Self.maximumTrials(config) else { return .refused }
            set(Self.halfOpenPhase, generation, payload + 1)
            return .trial(generation: generation)
        }
    }

    /// Reports an attempt the server answered well.
    ///
    /// Closed: the failure count goes back to zero. Half-open, for a trial of this period: the
    /// circuit closes (`.closed`). Otherwise (open, or an ordinary attempt or an earlier period's
    /// trial ending while half-open) nothing changes. Reporting a refused admission traps.
    @discardableResult
    package mutating func succeeded(_ admission: CircuitBreakerAdmission) -> CircuitBreakerTransition? {
        precondition(admission != .refused, "a refused attempt has no outcome to report")
        switch phaseBits {
        case Self.closedPhase:
            set(Self.closedPhase, generation, 0)
            return nil
        case Self.openPhase:
            return nil
        default:
            guard isCurrentTrial(admission) else { return nil }
            set(Self.closedPhase, generation, 0)
            return .closed
        }
    }

    /// Reports an attempt the server failed (see ``AttemptVerdict``).
    ///
    /// Closed: one more failure in a row; at `failureThreshold` the circuit opens at `now`
    /// (`.opened`). Half-open, for a trial of this period: the circuit opens again at `now`
    /// (`.opened`); the other trials in flight become stale. Otherwise nothing changes: while
    /// open or half-open only this period's trials decide. Reporting a refused admission traps.
    @discardableResult
    package mutating func failed(
        _ admission: CircuitBreakerAdmission, at now: Instant, _ config: CircuitBreakerConfig
    ) -> CircuitBreakerTransition? {
        precondition(admission != .refused, "a refused attempt has no outcome to report")
        switch phaseBits {
        case Self.closedPhase:
            let failures = Swift.min(payload + 1, Self.payloadMask)
            guard failures >= Self.threshold(config) else {
                set(Self.closedPhase, generation, failures)
                return nil
            }
            open(at: now)
            return .opened
        case Self.openPhase:
            return nil
        default:
            guard isCurrentTrial(admission) else { return nil }
            open(at: now)
            return .opened
        }
    }

    /// Reports an attempt that ended without a verdict on the server (the client left, its body
    /// failed, the gateway gave up): a trial of this period gives its slot back; anything else
    /// changes nothing. Reporting a refused admission traps, and so does releasing more trials
    /// than are in flight.
    package mutating func released(_ admission: CircuitBreakerAdmission) {
        precondition(admission != .refused, "a refused attempt has no outcome to report")
        guard phaseBits == Self.halfOpenPhase, isCurrentTrial(admission) else { return }
        precondition(payload > 0, "released a trial of a half-open breaker with no trial in flight")
        set(Self.halfOpenPhase, generation, payload - 1)
    }

    /// Reports an attempt's ``AttemptVerdict``: a success, a failure or a release.
    @discardableResult
    package mutating func record(
        _ verdict: AttemptVerdict, of admission: CircuitBreakerAdmission, at now: Instant,
        _ config: CircuitBreakerConfig
    ) -> CircuitBreakerTransition? {
        switch verdict {
        case .success: return succeeded(admission)
        case .failure: return failed(admission, at: now, config)
        case .inconclusive:
            released(admission)
            return nil
        }
    }

    // MARK: Queries

    /// Whether ``admit(at:_:)`` would let an attempt through at `now`.
    package func wouldAdmit(at now: Instant, _ config: CircuitBreakerConfig) -> Bool {
        switch phaseBits {
        case Self.closedPhase: return true
        case Self.openPhase: return now >= reopensAt(config)
        default: return payload < Self.maximumTrials(config)
        }
    }

    /// The state `/stats` reports: `half_open` as soon as `openMs` has passed, before any trial.
    package func circuit(at now: Instant, _ config: CircuitBreakerConfig) -> StatsReport.Circuit {
        switch phaseBits {
        case Self.closedPhase: return .closed
        case Self.openPhase: return now >= reopensAt(config) ? .halfOpen : .open
        default: return .halfOpen
        }
    }

    /// Whether a packed word is closed: the hot-path test of ``CircuitBreaker/admit(at:_:)``.
    @inline(__always)
    static func isClosed(_ bits: UInt64) -> Bool {
        bits >> phaseShift == closedPhase
    }

    /// Whether a packed word is closed with no failure counted: a success then changes nothing.
    @inline(__always)
    static func isClosedWithoutFailures(_ bits: UInt64) -> Bool {
        isClosed(bits) && bits & payloadMask == 0
    }

    // MARK: Packing

    private static let phaseShift: UInt64 = 62
    private static let generationShift: UInt64 = 46
    private static let payloadMask: UInt64 = (1 << 46) - 1
    private static let closedPhase: UInt64 = 0
    private static let openPhase: UInt64 = 1
    private static let halfOpenPhase: UInt64 = 2

    private var phaseBits: UInt64 { bits >> Self.phaseShift }
    private var payload: UInt64 { bits & Self.payloadMask }

    private static func pack(_ phase: UInt64, _ generation: UInt16, _ payload: UInt64) -> UInt64 {
        phase << phaseShift | UInt64(generation) << generationShift | payload
    }

    private mutating func set(_ phase: UInt64, _ generation: UInt16, _ payload: UInt64) {
        bits = Self.pack(phase, generation, payload)
    }

    private mutating func open(at now: Instant) {
        set(Self.openPhase, generation &+ 1, Self.milliseconds(now))
    }

    private func isCurrentTrial(_ admission: CircuitBreakerAdmission) -> Bool {
        admission == .trial(generation: generation)
    }

    /// When an open circuit turns half-open.
    private func reopensAt(_ config: CircuitBreakerConfig) -> Instant {
        Self.instant(milliseconds: payload) + config.openDuration
    }

    private static func count(_ value: Int) -> UInt64 {
        precondition(value >= 0 && UInt64(value) <= payloadMask, "count \(value) does not fit the packing")
        return UInt64(value)
    }

    /// Whole milliseconds of `instant`, rounded up (45 bits at most).
    private static func milliseconds(_ instant: Instant) -> UInt64 {
        let (quotient, remainder) = instant.nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return remainder == 0 ? quotient : quotient + 1
    }

    private static func instant(milliseconds: UInt64) -> Instant {
        let (nanoseconds, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        return Instant(nanoseconds: overflow ? .max : nanoseconds)
    }

    private static func threshold(_ config: CircuitBreakerConfig) -> UInt64 {
        UInt64(Swift.min(Swift.max(config.failureThreshold, 1), 65535))
    }

    private static func maximumTrials(_ config: CircuitBreakerConfig) -> UInt64 {
        UInt64(Swift.min(Swift.max(config.halfOpenMaxRequests, 1), 65535))
    }
}
