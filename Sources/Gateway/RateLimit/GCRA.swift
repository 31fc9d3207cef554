/// The generic cell rate algorithm: a token bucket kept as one number per key, its
/// "theoretical arrival time" (TAT), the instant at which the bucket would be full again
/// (docs/configuration.md, "Rate limiting").
///
/// Each admitted request pushes the TAT one `interval` (1 / requestsPerSecond) further; a
/// request is refused when that would put the TAT more than `burst` intervals ahead of now.
/// So over any span of T a key is admitted at most `burst + T / interval` requests, and a
/// key that keeps under its rate is never refused. Refusals leave the TAT alone. A TAT at or
/// before now is a full bucket, the same as a key never seen, which is why full buckets can
/// be forgotten. Pure arithmetic on nanoseconds; the stores keep the TATs.
package struct GCRA: Sendable, Equatable {
    /// Nanoseconds per token, rounded up: the refill is never faster than configured.
    package let interval: UInt64
    /// Tokens in a full bucket.
    package let burst: Int
    /// `burst × interval` (saturating): how far the TAT may run ahead of now.
    package let window: UInt64

    /// A bucket of `burst` tokens refilled at `requestsPerSecond` (validated: > 0, burst ≥ 1).
    package init(requestsPerSecond: Double, burst: Int) {
        let nanoseconds = (1e9 / requestsPerSecond).rounded(.up)
        interval = nanoseconds >= 1.8e19 ? UInt64.max : Swift.max(1, UInt64(nanoseconds))
        self.burst = Swift.max(1, burst)
        let (product, overflow) = interval.multipliedReportingOverflow(by: UInt64(self.burst))
        window = overflow ? .max : product
    }

    /// The decision for one request at `now` on a bucket whose TAT is `tat` (0: never
    /// seen), and the TAT to store when it is admitted.
    @inlinable
    package func decide(tat: UInt64, now: UInt64) -> (decision: RateLimitDecision, newTAT: UInt64) {
        let base = Swift.max(tat, now)
        let (sum, overflow) = base.addingReportingOverflow(interval)
        let newTAT = overflow ? .max : sum
        let ahead = newTAT - now
        if ahead > window {
            return (
                RateLimitDecision(
                    admitted: false, remaining: 0, resetNanoseconds: base - now,
                    retryAfterNanoseconds: ahead - window),
                tat
            )
        }
        return (
            RateLimitDecision(
                admitted: true, remaining: Int((window - ahead) / interval), resetNanoseconds: ahead,
                retryAfterNanoseconds: 0),
            newTAT
        )
    }

    /// Seconds to refill a whole bucket, rounded up (`RateLimit-Policy`'s `w`).
    package var windowSeconds: UInt64 { RateLimitDecision.secondsRoundedUp(window) }
}

/// What a rate limiter said about one request, with the numbers its response fields carry.
package struct RateLimitDecision: Sendable, Equatable {
    /// Whether the request may pass (in a dry run it passes anyway).
    package var admitted: Bool
    /// Whole tokens left after this request; 0 when refused.
    package var remaining: Int
    /// Until the bucket is full again.
    package var resetNanoseconds: UInt64
    /// Until the next token, when refused; 0 when admitted.
    package var retryAfterNanoseconds: UInt64

    @inlinable
    package init(admitted: Bool, remaining: Int, resetNanoseconds: UInt64, retryAfterNanoseconds: UInt64) {
        self.admitted = admitted
        self.remaining = remaining
        self.resetNanoseconds = resetNanoseconds
        self.retryAfterNanoseconds = retryAfterNanoseconds
    }

    /// `RateLimit-Reset`: seconds until the bucket is full again, rounded up.
    package var resetSeconds: UInt64 { Self.secondsRoundedUp(resetNanoseconds) }

    /// `Retry-After` of a refusal: seconds until the next token, rounded up, at least 1.
    package var retryAfterSeconds: UInt64 { Swift.max(1, Self.secondsRoundedUp(retryAfterNanoseconds)) }

    @inlinable
    package static func secondsRoundedUp(_ nanoseconds: UInt64) -> UInt64 {
        nanoseconds / 1_000_000_000 + (nanoseconds % 1_000_000_000 == 0 ? 0 : 1)
    }
}
