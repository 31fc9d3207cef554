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

    /// Creates a rate limit; `burst` defaults to `requestsPerSecond` rounded up (at least 1).
    public init(
        requestsPerSecond: Double = 100,
        burst: Int? = nil,
        key: RateLimitKey = .clientIP,
        dryRun: Bool = false
    ) {
        self.requestsPerSecond = requestsPerSecond
        // Clamped so that a rate beyond any validated value cannot trap the conversion.
        let roundedUp = Swift.min(requestsPerSecond.rounded(.up), 1e15)
        self.burst = burst ?? Swift.max(1, roundedUp.isNaN ? 1 : Int(roundedUp))
        self.key = key
        self.dryRun = dryRun
    }
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
