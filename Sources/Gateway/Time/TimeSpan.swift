/// A signed length of time in nanoseconds, used for every duration in the gateway.
///
/// Construction and arithmetic saturate at the `Int64` range instead of trapping, so a
/// configuration value such as `timeoutMs: 9223372036854775807` means "practically forever"
/// rather than a crash.
public struct TimeSpan: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// The length in nanoseconds; negative for spans that point backwards.
    public var nanoseconds: Int64

    /// Creates a span from a nanosecond count.
    @inlinable
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    // Computed and inlinable rather than stored: a stored static is reached through a
    // lazy-initialization check on every use from another module.

    /// The empty span.
    @inlinable
    public static var zero: TimeSpan { TimeSpan(nanoseconds: 0) }

    /// The longest representable span.
    @inlinable
    public static var max: TimeSpan { TimeSpan(nanoseconds: .max) }

    /// A span of `value` nanoseconds.
    @inlinable
    public static func nanoseconds(_ value: Int64) -> TimeSpan {
        TimeSpan(nanoseconds: value)
    }

    /// A span of `value` microseconds, saturating.
    @inlinable
    public static func microseconds(_ value: Int) -> TimeSpan {
        TimeSpan(nanoseconds: saturatingProduct(Int64(value), 1_000))
    }

    /// A span of `value` milliseconds, saturating.
    @inlinable
    public static func milliseconds(_ value: Int) -> TimeSpan {
        TimeSpan(nanoseconds: saturatingProduct(Int64(value), 1_000_000))
    }

    /// A span of `value` seconds, saturating.
    @inlinable
    public static func seconds(_ value: Int) -> TimeSpan {
        TimeSpan(nanoseconds: saturatingProduct(Int64(value), 1_000_000_000))
    }

    /// Whole milliseconds in the span, truncated toward zero.
    @inlinable
    public var milliseconds: Int64 {
        nanoseconds / 1_000_000
    }

    /// Whole milliseconds in the span, rounded up for positive spans (1 ns counts as 1 ms).
    @inlinable @inline(__always)
    public var millisecondsRoundedUp: Int64 {
        let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return remainder > 0 ? quotient + 1 : quotient
    }

    /// The span in seconds as a floating-point number, for reporting.
    @inlinable
    public var secondsValue: Double {
        Double(nanoseconds) / 1e9
    }

    /// Renders as milliseconds, e.g. `1500ms`, which is how the configuration spells durations.
    public var description: String {
        let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return remainder == 0 ? "\(quotient)ms" : "\(nanoseconds)ns"
    }

    /// Whether `lhs` is the shorter span.
    @inlinable @inline(__always)
    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The sum of two spans, saturating.
    @inlinable @inline(__always)
    public static func + (lhs: TimeSpan, rhs: TimeSpan) -> TimeSpan {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.nanoseconds)
        if overflow {
            return TimeSpan(nanoseconds: rhs.nanoseconds > 0 ? .max : .min)
        }
        return TimeSpan(nanoseconds: sum)
    }

    /// The difference of two spans, saturating.
    @inlinable @inline(__always)
    public static func - (lhs: TimeSpan, rhs: TimeSpan) -> TimeSpan {
        let (difference, overflow) = lhs.nanoseconds.subtractingReportingOverflow(rhs.nanoseconds)
        if overflow {
            return TimeSpan(nanoseconds: rhs.nanoseconds < 0 ? .max : .min)
        }
        return TimeSpan(nanoseconds: difference)
    }

    /// The span scaled by an integer factor, saturating.
    @inlinable @inline(__always)
    public static func * (lhs: TimeSpan, rhs: Int) -> TimeSpan {
        TimeSpan(nanoseconds: saturatingProduct(lhs.nanoseconds, Int64(rhs)))
    }

    @inlinable
    static func saturatingProduct(_ lhs: Int64, _ rhs: Int64) -> Int64 {
        let (product, overflow) = lhs.multipliedReportingOverflow(by: rhs)
        if overflow {
            return (lhs < 0) == (rhs < 0) ? .max : .min
        }
        return product
    }
}
