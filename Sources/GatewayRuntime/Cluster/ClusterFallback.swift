import Gateway

/// What the gateway does with a cluster limit's requests while Redis cannot answer
/// (`rateLimit.onBackendError`).
enum ClusterFallback: Sendable {
    /// Each process limits alone at the route's limit ÷ `replicasHint`.
    case local(LocalRateLimitStore)
    /// Admit.
    case open
    /// Refuse with 503 and `Retry-After`.
    case closed

    init(_ policy: BackendErrorPolicy, limit: RateLimitConfig, replicasHint: Int) {
        switch policy {
        case .local:
            // Every replica limits alone at its share: together about the configured limit.
            let share = Double(max(1, replicasHint))
            let gcra = GCRA(
                requestsPerSecond: limit.requestsPerSecond / share,
                burst: max(1, Int((Double(limit.burst) / share).rounded(.up))))
            self = .local(LocalRateLimitStore(gcra: gcra, global: limit.key == .global))
        case .open:
            self = .open
        case .closed:
            self = .closed
        }
    }
}
