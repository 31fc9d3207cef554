import Glibc

/// A point on the monotonic clock after which a blocking wait gives up.
struct Deadline: Sendable, Comparable {
    /// Monotonic nanoseconds; `UInt64.max` means "never".
    let nanoseconds: UInt64

    /// A deadline that never passes.
    static let never = Deadline(nanoseconds: .max)

    /// The current monotonic instant.
    static func now() -> Deadline {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Deadline(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    /// The instant `duration` from now; saturates to `never`.
    static func after(_ duration: Duration) -> Deadline {
        let (sum, overflow) = now().nanoseconds.addingReportingOverflow(duration.clampedNanoseconds)
        return overflow ? .never : Deadline(nanoseconds: sum)
    }

    static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Whether the deadline is in the past.
    var hasPassed: Bool { self != .never && Deadline.now().nanoseconds >= nanoseconds }

    /// The timeout argument for `poll(2)`: -1 for never, otherwise milliseconds rounded up.
    var pollTimeout: Int32 {
        if self == .never { return -1 }
        let current = Deadline.now().nanoseconds
        if current >= nanoseconds { return 0 }
        let milliseconds = (nanoseconds - current + 999_999) / 1_000_000
        return Int32(clamping: milliseconds)
    }
}

/// How long one blocking wait may take: an absolute deadline, an inactivity limit, or both.
struct WaitLimit: Sendable {
    /// The whole operation must finish by this instant.
    var deadline: Deadline = .never
    /// Each individual wait for readiness may take at most this long.
    var inactivity: Duration?

    /// The deadline for the next single wait.
    func nextDeadline() -> Deadline {
        guard let inactivity else { return deadline }
        return min(deadline, .after(inactivity))
    }
}

extension Duration {
    /// The duration in whole nanoseconds; negative durations count as zero, huge ones saturate.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        return whole &+ UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    /// A short human-readable rendering such as `5s` or `250ms` for error messages.
    var testDescription: String {
        let nanoseconds = clampedNanoseconds
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        return "\(nanoseconds / 1_000_000)ms"
    }
}

/// The text of `strerror(code)`.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
