/// A route's rate limit (`routes[i].rateLimit`): a token bucket per key.
public struct RateLimitConfig: Sendable, Equatable {
    /// Refill rate, > 0; fractions allowed (0.5 = one every 2 s); default 100.
    public var requestsPerSecond: Double
    /// Bucket size in whole tokens, >= 1; default `requestsPerSecond` rounded up.
    public var burst: Int
    /// What a bucket belongs to; the client address by default.
    public var key: RateLimitKey
    /// Count what would be refused without refusing it; default false.
    public var dryRun: Bool
    /// Where the buckets live; in this process by default.
    public var scope: RateLimitScope
    /// What a `cluster` limit does while Redis fails; `local` by default.
    public var onBackendError: BackendErrorPolicy

    /// Creates a rate limit; `burst` defaults to `requestsPerSecond` rounded up (at least 1).
    public init(
        requestsPerSecond: Double = 100,
        burst: Int? = nil,
        key: RateLimitKey = .clientIP,
        dryRun: Bool = false,
        scope: RateLimitScope = .local,
        onBackendError: BackendErrorPolicy = .local
    ) {
        self.requestsPerSecond = requestsPerSecond
        // Clamped so that a rate beyond any validated value cannot trap the conversion.
        let roundedUp = Swift.min(requestsPerSecond.rounded(.up), 1e15)
        self.burst = burst ?? Swift.max(1, roundedUp.isNaN ? 1 : Int(roundedUp))
        self.key = key
        self.dryRun = dryRun
        self.scope = scope
        self.onBackendError = onBackendError
    }
}

/// `rateLimit.scope`.
public enum RateLimitScope: String, Sendable, Hashable, CaseIterable {
    /// One exact limit per gateway process, shared by its workers.
    case local
    /// One limit for every process using the same `cluster.redis`.
    case cluster
}

/// `rateLimit.onBackendError`: a cluster limit's requests while Redis fails.
public enum BackendErrorPolicy: String, Sendable, Hashable, CaseIterable {
    /// Each process limits alone at the limit divided by `cluster.redis.replicasHint`.
    case local
    /// Admit every request.
    case open
    /// Refuse with 503 and `Retry-After`.
    case closed
}

/// What a rate-limit bucket is keyed on (`rateLimit.key`).
public enum RateLimitKey: Sendable, Hashable, CustomStringConvertible {
    /// `client_ip`: one bucket per client address.
    case clientIP
    /// `global`: one bucket for the route.
    case global
    /// `header:<Name>`: one bucket per value of the header; requests without it share one.
    /// The name as written; compare case-insensitively.
    case header(String)

    /// The value as written in the configuration.
    public var description: String {
        switch self {
        case .clientIP: return "client_ip"
        case .global: return "global"
        case .header(let name): return "header:\(name)"
        }
    }
}
