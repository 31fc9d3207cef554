import Gateway
import Synchronization

/// Test support: a clock that only moves when told to, so time-dependent logic is deterministic.
///
/// Safe to share across threads; every reading and advance is serialized by a mutex.
package final class ManualClock: MonotonicClock {
    private let current: Mutex<Instant>

    /// Creates a clock that reads `start` until advanced.
    package init(start: Instant = Instant(nanoseconds: 1_000_000_000)) {
        current = Mutex(start)
    }

    /// The instant the clock was last set or advanced to.
    package var now: Instant {
        current.withLock { $0 }
    }

    /// Moves the clock forward by `span`; a negative span is a bug and traps.
    package func advance(by span: TimeSpan) {
        precondition(span >= .zero, "a monotonic clock cannot go backwards")
        current.withLock { $0 = $0 + span }
    }
}
