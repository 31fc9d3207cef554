/// A source of monotonic time, for the parts of `Gateway` that read "now" themselves rather
/// than being handed an `Instant` with each event.
///
/// Tests use `ManualClock` (PorticoTesting). The runtime hands the pure core the readings its
/// loops take once per iteration, as `Instant`s. Readings never go backwards.
public protocol MonotonicClock: Sendable {
    /// The current instant.
    var now: Instant { get }
}
