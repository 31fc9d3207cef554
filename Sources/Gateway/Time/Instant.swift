/// A point on the monotonic clock, in nanoseconds since an arbitrary origin.
///
/// Only differences between instants of the same clock mean anything. Arithmetic with a
/// ``TimeSpan`` saturates at the ends of the range instead of trapping.
public struct Instant: Comparable, Hashable, Sendable {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// Creates an instant from a nanosecond reading.
    @inlinable
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The clock's origin.
    @inlinable
    public static var zero: Instant { Instant(nanoseconds: 0) }

    /// The latest representable instant, useful as "no deadline".
    @inlinable
    public static var distantFuture: Instant { Instant(nanoseconds: .max) }

    /// Whether `lhs` comes first.
    @inlinable @inline(__always)
    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The instant `span` after `instant`, saturating.
    @inlinable @inline(__always)
    public static func + (instant: Instant, span: TimeSpan) -> Instant {
        if span.nanoseconds >= 0 {
            let (sum, overflow) = instant.nanoseconds.addingReportingOverflow(UInt64(span.nanoseconds))
            return Instant(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = span.nanoseconds.magnitude
        return Instant(nanoseconds: instant.nanoseconds > magnitude ? instant.nanoseconds - magnitude : 0)
    }

    /// The instant `span` before `instant`, saturating.
    @inlinable @inline(__always)
    public static func - (instant: Instant, span: TimeSpan) -> Instant {
        instant + TimeSpan(nanoseconds: span.nanoseconds == .min ? .max : -span.nanoseconds)
    }

    /// The signed span from `rhs` to `lhs`, saturating at the `Int64` range.
    @inlinable @inline(__always)
    public static func - (lhs: Instant, rhs: Instant) -> TimeSpan {
        if lhs.nanoseconds >= rhs.nanoseconds {
            let difference = lhs.nanoseconds - rhs.nanoseconds
            return TimeSpan(nanoseconds: difference > UInt64(Int64.max) ? .max : Int64(difference))
        }
        let difference = rhs.nanoseconds - lhs.nanoseconds
        return TimeSpan(nanoseconds: difference > UInt64(Int64.max) ? .min : -Int64(difference))
    }
}
