import Synchronization

/// A route's retry budget, shared by every worker: over a 10 s window the route's retries stay
/// within `budgetPercent`% of its client requests in that window, plus 3
/// (docs/configuration.md, `retries.budgetPercent`).
///
/// The window is made of whole seconds of the monotonic clock: the newest second and the nine
/// before it, so it spans between 9 and 10 s of real time. The bound holds exactly, across all
/// workers, at every retry admitted: counting that retry, the window ending at it holds at most
/// ``allowedRetries(requests:budgetPercent:)`` retries for the requests it holds. (A retry cannot
/// be taken back: when requests later leave the window faster than retries do, a later window
/// may hold more retries than its own requests would allow, but it admits none until it is back
/// within the bound.)
///
/// State, all atomics, no lock:
/// - `requests`: a ring of ten one-second slots, slot `second % 10`, each a word packing the
///   second it counts (high 40 bits) and its count of client requests (low 24 bits). A request
///   is one compare-and-swap on its slot, which also resets a slot left from an older second,
///   so no count leaks between seconds.
/// - `newest`: the word of the newest second that has retries, in the same packing. Admitting a
///   retry is one compare-and-swap on it, so every admission decides on the latest count and two
///   workers cannot both take the last retry.
/// - `retries`: a ring of ten slots holding earlier seconds' retry counts. Before `newest` moves
///   to a later second, its count is stored (an atomic maximum) in its slot and then published
///   by the releasing swap of `newest`; once `newest` has passed a second, that second's count
///   never changes again.
///
/// Where the window is conservative rather than exact:
/// - A retry is counted in the newest second that has retries even when the worker's own
///   reading is slightly older (loops read the clock once per iteration); the window is then
///   measured from that newest second.
/// - A request whose slot already holds a later second (a reading more than 10 s old) is not
///   counted, nor are requests past 2^24 - 1 in one second; no more than 2^24 - 1 retries are
///   admitted in one second.
/// - A request counted while a retry is being decided may be missed by that decision.
///
/// Seconds never wrap: every `Instant` (2^64 ns, about 1.8 × 10^10 s) fits the 40 bits.
package final class RetryBudget: Sendable {
    /// Seconds in the window.
    package static let windowSeconds = 10
    /// Retries allowed in any window whatever the request count: the "plus 3".
    package static let minimumRetries = 3

    /// Requests and retries in the window ending at a given second.
    package struct Usage: Sendable, Hashable {
        /// Client requests counted in the window.
        package var requests: Int
        /// Retries admitted in the window.
        package var retries: Int

        /// Creates a usage line.
        package init(requests: Int, retries: Int) {
            self.requests = requests
            self.retries = retries
        }
    }

    private let requests: InlineArray<10, Atomic<UInt64>>
    private let retries: InlineArray<10, Atomic<UInt64>>
    private let newest = Atomic<UInt64>(0)

    /// An empty budget: no requests and no retries yet.
    package init() {
        requests = InlineArray { _ in Atomic(0) }
        retries = InlineArray { _ in Atomic(0) }
    }

    /// The retries a window with `requests` client requests allows:
    /// ⌊requests × budgetPercent / 100⌋ + 3. A negative or NaN percentage counts as 0.
    package static func allowedRetries(requests: Int, budgetPercent: Double) -> Int {
        let share = (Double(max(requests, 0)) * budgetPercent / 100).rounded(.down)
        guard share >= 1 else { return minimumRetries }
        return Int(min(share, 1e15)) + minimumRetries
    }

    /// Counts one client request of the route (not a retry, not a resend on a stale pooled
    /// connection). One compare-and-swap, or two if the slot must first be reset.
    package func recordRequest(at now: Instant) {
        let second = Self.second(of: now)
        let slot = Int(second % UInt64(Self.windowSeconds))
        var word = requests[slot].load(ordering: .relaxed)
        while true {
            let next: UInt64
            switch Self.second(ofSlot: word) {
            case second:
                guard Self.count(ofSlot: word) < Self.countMask else { return }
                next = word + 1
            case ..<second:
                next = Self.slot(second: second, count: 1)
            default:
                return
            }
            let (exchanged, original) = requests[slot].compareExchange(
                expected: word, desired: next, ordering: .relaxed)
            if exchanged { return }
            word = original
        }
    }

    /// Takes one retry from the budget if the window allows it, and counts it; false (nothing
    /// counted) when the window's retries have reached ``allowedRetries(requests:budgetPercent:)``.
    package func tryAcquireRetry(at now: Instant, budgetPercent: Double) -> Bool {
        let second = Self.second(of: now)
        var current = newest.load(ordering: .acquiring)
        while true {
            let currentSecond = Self.second(ofSlot: current)
            let movesOn = second > currentSecond
            // The newest count is final once `newest` moves on: store it first, so whoever sees
            // the new `newest` (acquiring) also sees the old count in `retries`.
            if movesOn && Self.count(ofSlot: current) > 0 { archive(current) }
            let end = max(second, currentSecond)
            let retriesInEnd = movesOn ? 0 : Self.count(ofSlot: current)
            let usage = usage(endingAt: end, newest: current)
            let allowed = Self.allowedRetries(requests: usage.requests, budgetPercent: budgetPercent)
            guard usage.retries < allowed, retriesInEnd < Self.countMask else { return false }
            let (exchanged, original) = newest.compareExchange(
                expected: current, desired: Self.slot(second: end, count: retriesInEnd + 1),
                successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring)
            if exchanged { return true }
            current = original
        }
    }

    /// Requests and retries in the window ending at `now`'s second, or at the newest second
    /// with retries when that is later (for `/stats` and tests).
    package func usage(at now: Instant) -> Usage {
        let current = newest.load(ordering: .acquiring)
        return usage(endingAt: max(Self.second(of: now), Self.second(ofSlot: current)), newest: current)
    }

    /// Sums the window of seconds end-9...end: its requests, and its retries, taking the newest
    /// second's count from `newest` (its slot in `retries` may hold an older count of it).
    private func usage(endingAt end: UInt64, newest: UInt64) -> Usage {
        let window = (end >= UInt64(Self.windowSeconds - 1) ? end - UInt64(Self.windowSeconds - 1) : 0)...end
        let newestSecond = Self.second(ofSlot: newest)
        var requestCount: UInt64 = 0
        var retryCount = window.contains(newestSecond) ? Self.count(ofSlot: newest) : 0
        for slot in 0..<Self.windowSeconds {
            let request = requests[slot].load(ordering: .relaxed)
            if window.contains(Self.second(ofSlot: request)) {
                requestCount += Self.count(ofSlot: request)
            }
            let retry = retries[slot].load(ordering: .relaxed)
            let retrySecond = Self.second(ofSlot: retry)
            if retrySecond != newestSecond && window.contains(retrySecond) {
                retryCount += Self.count(ofSlot: retry)
            }
        }
        return Usage(requests: Int(requestCount), retries: Int(retryCount))
    }

    /// Stores a second's final retry count in its slot, unless the slot holds a later second or
    /// a higher count for the same one (an atomic maximum: the packing orders by second, then
    /// count).
    private func archive(_ word: UInt64) {
        let slot = Int(Self.second(ofSlot: word) % UInt64(Self.windowSeconds))
        var stored = retries[slot].load(ordering: .relaxed)
        while stored < word {
            let (exchanged, original) = retries[slot].compareExchange(
                expected: stored, desired: word, ordering: .relaxed)
            if exchanged { return }
            stored = original
        }
    }

    // MARK: Packing

    private static let countBits: UInt64 = 24
    private static let countMask: UInt64 = (1 << countBits) - 1

    private static func second(of instant: Instant) -> UInt64 {
        instant.nanoseconds / 1_000_000_000
    }

    private static func slot(second: UInt64, count: UInt64) -> UInt64 {
        second << countBits | count
    }

    private static func second(ofSlot word: UInt64) -> UInt64 {
        word >> countBits
    }

    private static func count(ofSlot word: UInt64) -> UInt64 {
        word & countMask
    }
}
