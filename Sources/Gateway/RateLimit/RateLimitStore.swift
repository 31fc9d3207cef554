/// Where a route's buckets live: the seam between the limiter's decision and its state, so
/// a store shared by several gateway processes can stand beside the in-process one without
/// touching routing or the exchange.
package protocol RateLimitStore: AnyObject, Sendable {
    /// Decides one request of the bucket `key` (a hash of the client key; any value for a
    /// `global` limit) at `now`, and takes its token when admitted.
    func decide(key: UInt64, at now: Instant) -> RateLimitDecision
}
