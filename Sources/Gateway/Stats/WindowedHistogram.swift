/// Latencies of the last minute: a ring of ``LatencyHistogram`` slots rotated by monotonic time.
///
/// With the default 6 slots of 10 s, a snapshot covers the current slot and the five before it,
/// i.e. the last 50 to 60 seconds. A slot is zeroed in place when time comes back around to it,
/// so recording never allocates after each slot's first use. Time is passed in, never read.
public struct WindowedHistogram: Sendable {
    private static let unused = UInt64.max

    /// The length of time one slot covers.
    public let slotSpan: TimeSpan

    private var slots: [LatencyHistogram]
    /// For each slot, the number of whole slot spans since the clock origin it holds, or `unused`.
    private var epochs: [UInt64]

    /// Creates an empty window of `slotCount` slots of `slotSpan` each (both must be positive).
    public init(slotCount: Int = 6, slotSpan: TimeSpan = .seconds(10)) {
        precondition(slotCount > 0 && slotSpan > .zero, "a latency window needs slots of positive length")
        self.slotSpan = slotSpan
        slots = Array(repeating: LatencyHistogram(), count: slotCount)
        epochs = Array(repeating: Self.unused, count: slotCount)
    }

    /// The longest stretch of time a snapshot covers.
    public var window: TimeSpan { slotSpan * slots.count }

    /// Records one latency observed at `now`.
    public mutating func record(nanoseconds: UInt64, at now: Instant) {
        let epoch = epoch(of: now)
        let slot = Int(epoch % UInt64(slots.count))
        if epochs[slot] != epoch {
            slots[slot].reset()
            epochs[slot] = epoch
        }
        slots[slot].record(nanoseconds: nanoseconds)
    }

    /// The latencies recorded within the window that ends at `now`, merged into one histogram.
    public func snapshot(at now: Instant) -> LatencyHistogram {
        let current = epoch(of: now)
        var merged = LatencyHistogram()
        for slot in slots.indices where isLive(epochs[slot], current: current) {
            merged.merge(slots[slot])
        }
        return merged
    }

    /// Adds the slots of `other` (another worker's window of the same shape): slots of the same
    /// period are merged and the newer period wins where they differ.
    public mutating func merge(_ other: WindowedHistogram) {
        precondition(
            other.slots.count == slots.count && other.slotSpan == slotSpan,
            "latency windows of different shapes cannot be merged"
        )
        for slot in slots.indices where other.epochs[slot] != Self.unused {
            if epochs[slot] == other.epochs[slot] {
                slots[slot].merge(other.slots[slot])
            } else if epochs[slot] == Self.unused || other.epochs[slot] > epochs[slot] {
                slots[slot] = other.slots[slot]
                epochs[slot] = other.epochs[slot]
            }
        }
    }

    private func epoch(of instant: Instant) -> UInt64 {
        instant.nanoseconds / UInt64(slotSpan.nanoseconds)
    }

    private func isLive(_ epoch: UInt64, current: UInt64) -> Bool {
        epoch != Self.unused && epoch <= current && current - epoch < UInt64(slots.count)
    }
}
