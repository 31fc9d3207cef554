/// A source of monotonic time, injected into everything in `Gateway` that needs "now".
///
/// The runtime supplies a `CLOCK_MONOTONIC` reader; tests use ``ManualClock``. Readings never
/// go backwards.
public protocol MonotonicClock: Sendable {
    /// The current instant.
    var now: Instant { get }
}
