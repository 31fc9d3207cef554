/// Which failed attempts of a request are tried again, and how long to wait first: the pure
/// part of a route's `retries` settings (docs/configuration.md, "Retries").
///
/// A value chosen when the configuration is loaded; the exchange state machine asks it after
/// each failed attempt. The retry budget shared by all workers is not part of it.
package struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt.
    package var maxRetries: Int
    /// The conditions that allow a retry.
    package var conditions: Set<RetryCondition>
    /// Statuses retried under `retriable_status`.
    package var retriableStatuses: [Int]
    /// Whether POST and PATCH may be retried on more than a connect failure.
    package var retryNonIdempotent: Bool
    /// Backoff before retry n is random in [0, min(backoffMax, backoffBase × 2^n)].
    package var backoffBase: TimeSpan
    package var backoffMax: TimeSpan

    /// No retries at all.
    package static let none = RetryPolicy(
        maxRetries: 0, conditions: [], retriableStatuses: [], retryNonIdempotent: false,
        backoffBase: .zero, backoffMax: .zero)

    package init(
        maxRetries: Int, conditions: Set<RetryCondition>, retriableStatuses: [Int], retryNonIdempotent: Bool,
        backoffBase: TimeSpan, backoffMax: TimeSpan
    ) {
        self.maxRetries = maxRetries
        self.conditions = conditions
        self.retriableStatuses = retriableStatuses
        self.retryNonIdempotent = retryNonIdempotent
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
    }

    package init(_ config: RetryConfig) {
        self.init(
            maxRetries: config.maxRetries, conditions: Set(config.retryOn),
            retriableStatuses: config.retriableStatusCodes, retryNonIdempotent: config.retryNonIdempotent,
            backoffBase: config.backoff.base, backoffMax: config.backoff.max)
    }

    /// Whether a failure of this kind may be retried for a request whose method is (or is not)
    /// idempotent. A request that is not idempotent is retried only when it cannot have
    /// reached the server (a failed connect), unless `retryNonIdempotent` (RFC 9110 §9.2.2).
    package func allowsRetry(after failure: AttemptFailure, idempotent: Bool) -> Bool {
        guard maxRetries > 0 else { return false }
        switch failure {
        case .connectFailed:
            return conditions.contains(.connectFailure)
        case .reset, .badResponse:
            return conditions.contains(.reset) && (idempotent || retryNonIdempotent)
        case .perTryTimeout:
            return conditions.contains(.perTryTimeout) && (idempotent || retryNonIdempotent)
        }
    }

    /// Whether a complete response with `status` may be retried (`5xx`, `gateway_error`,
    /// `retriable_status`); the same idempotency rule applies.
    package func allowsRetry(afterStatus status: Int, idempotent: Bool) -> Bool {
        guard maxRetries > 0, idempotent || retryNonIdempotent else { return false }
        return (status >= 500 && status <= 599 && conditions.contains(.fiveXX))
            || ((status == 502 || status == 503 || status == 504) && conditions.contains(.gatewayError))
            || (conditions.contains(.retriableStatus) && retriableStatuses.contains(status))
    }

    /// The wait before retry `retry` (1 for the first retry): full jitter over
    /// [0, min(backoffMax, backoffBase × 2^retry)], drawn from `random`.
    package func backoff(beforeRetry retry: Int, random: UInt64) -> TimeSpan {
        let doubled = backoffBase * (1 << min(max(retry, 0), 30))
        let ceiling = min(backoffMax, doubled)
        guard ceiling > .zero else { return .zero }
        return TimeSpan(nanoseconds: Int64(random % (UInt64(ceiling.nanoseconds) + 1)))
    }
}

/// Why one attempt of a request failed, as the retry policy and the state machine see it.
package enum AttemptFailure: Sendable, Equatable {
    /// The connect was refused, failed or timed out.
    case connectFailed(String)
    /// The connection closed or reset before the response was complete.
    case reset(String)
    /// The upstream sent something that is not valid HTTP/1.1.
    case badResponse(String)
    /// The attempt's own deadline (`perTryTimeoutMs`) passed.
    case perTryTimeout

    /// The gateway error a client gets when this failure is final.
    package var error: ProxyError {
        switch self {
        case .connectFailed(let message): return ProxyError(.upstreamConnectFailed, message)
        case .reset(let message): return ProxyError(.upstreamReset, message)
        case .badResponse(let message): return ProxyError(.upstreamBadResponse, message)
        case .perTryTimeout:
            return ProxyError(.deadlineExceeded, "the attempt's deadline passed before a response arrived")
        }
    }
}
