/// A route's retry policy (`routes[i].retries`).
public struct RetryConfig: Sendable, Equatable {
    /// Retries after the first attempt; default 2.
    public var maxRetries: Int
    /// Conditions that allow a retry, in file order without duplicates; default
    /// `connect_failure`, `reset`.
    public var retryOn: [RetryCondition]
    /// Statuses retried under `retriable_status`; empty by default.
    public var retriableStatusCodes: [Int]
    /// Deadline of each attempt (`perTryTimeoutMs`); `.zero` (the default) means only the route's.
    public var perTryTimeout: TimeSpan
    /// Backoff before each retry; defaults as in ``BackoffConfig``.
    public var backoff: BackoffConfig
    /// Retries allowed over any 10 s window, as a percentage of the route's client requests
    /// (plus 3); default 20.
    public var budgetPercent: Double
    /// Whether POST and PATCH may be retried on more than `connect_failure`; default false.
    public var retryNonIdempotent: Bool

    /// Creates a retry policy with the documented defaults (docs/configuration.md).
    public init(
        maxRetries: Int = 2,
        retryOn: [RetryCondition] = [.connectFailure, .reset],
        retriableStatusCodes: [Int] = [],
        perTryTimeout: TimeSpan = .zero,
        backoff: BackoffConfig = BackoffConfig(),
        budgetPercent: Double = 20,
        retryNonIdempotent: Bool = false
    ) {
        self.maxRetries = maxRetries
        self.retryOn = retryOn
        self.retriableStatusCodes = retriableStatusCodes
        self.perTryTimeout = perTryTimeout
        self.backoff = backoff
        self.budgetPercent = budgetPercent
        self.retryNonIdempotent = retryNonIdempotent
    }

    /// Whether `condition` is listed in ``retryOn``.
    public func retries(on condition: RetryCondition) -> Bool {
        retryOn.contains(condition)
    }
}

/// Exponential backoff bounds (`retries.backoff`): retry n waits a random time in
/// `[0, min(max, base × 2^n)]`.
public struct BackoffConfig: Sendable, Equatable {
    /// `baseMs`; default 25 ms.
    public var base: TimeSpan
    /// `maxMs`; default 250 ms.
    public var max: TimeSpan

    /// Creates backoff bounds with the documented defaults (docs/configuration.md).
    public init(base: TimeSpan = .milliseconds(25), max: TimeSpan = .milliseconds(250)) {
        self.base = base
        self.max = max
    }
}
