import Gateway
import Reactor

/// Bridges the loop's clock (monotonic nanoseconds, read once per iteration) and the core's
/// typed time: everything above the Reactor speaks `Instant` and `TimeSpan`.
extension EventLoop {
    /// This iteration's reading of the monotonic clock.
    var instant: Instant { Instant(nanoseconds: now) }

    /// Schedules (or moves) `timer` to fire at `instant`.
    func schedule(_ timer: LoopTimer, at instant: Instant) {
        schedule(timer, at: instant.nanoseconds)
    }

    /// Makes sure `timer` fires no later than `instant` (see `schedule(_:noLaterThan:)`).
    func schedule(_ timer: LoopTimer, noLaterThan instant: Instant) {
        schedule(timer, noLaterThan: instant.nanoseconds)
    }
}

extension Instant {
    /// A fresh reading of the monotonic clock (not the loop's per-iteration one).
    static var current: Instant { Instant(nanoseconds: monotonicNanoseconds()) }
}
