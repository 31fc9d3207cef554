/// The circuit breaker in front of the shared Redis (docs/configuration.md, "Cluster rate
/// limits"): after `threshold` calls in a row fail (error replies that mean "not now",
/// timeouts, a lost connection), cluster limits stop asking Redis and apply their
/// `onBackendError` fallback; after `cooldown`, one call probes Redis again, and its
/// success ends the fallback. One per process, driven under its owner's lock with the time.
package struct BackendBreaker: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        case closed
        /// The fallback applies until `until`; then the next call is a probe.
        case open(until: UInt64)
        /// A probe is on its way; the fallback applies until it answers.
        case probing
    }

    package private(set) var state = State.closed
    private var consecutiveFailures = 0
    package let threshold: Int
    package let cooldown: UInt64

    package init(threshold: Int = 3, cooldownNanoseconds: UInt64 = 1_000_000_000) {
        self.threshold = max(1, threshold)
        self.cooldown = cooldownNanoseconds
    }

    /// Whether the fallback applies now (the `fallback active` gauge).
    package var isOpen: Bool { state != .closed }

    /// Whether a call to Redis may go out at `now`. While open, false until the cooldown has
    /// passed; then true once, for the probe.
    package mutating func allowsCall(now: UInt64) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let until):
            guard now >= until else { return false }
            state = .probing
            return true
        case .probing:
            return false
        }
    }

    package mutating func callSucceeded() {
        consecutiveFailures = 0
        state = .closed
    }

    /// Returns true when this failure tripped the breaker (closed → open).
    @discardableResult
    package mutating func callFailed(now: UInt64) -> Bool {
        consecutiveFailures += 1
        switch state {
        case .probing:
            state = .open(until: now &+ cooldown)
            return false
        case .open:
            return false
        case .closed:
            guard consecutiveFailures >= threshold else { return false }
            state = .open(until: now &+ cooldown)
            return true
        }
    }
}
