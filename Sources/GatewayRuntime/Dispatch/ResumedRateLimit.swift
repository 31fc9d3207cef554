import Gateway

/// A cluster rate limit's verdict for a request that waited for Redis, handed to the head's
/// second dispatch (`ClientConnection.resumeAfterRateLimit`), and when the request began.
struct ResumedRateLimit {
    let verdict: ClusterRateLimiter.Verdict
    let startedAt: Instant
}
