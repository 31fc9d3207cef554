/// Which failed attempts of a request are tried again, and how long to wait first: the pure
/// part of a route's `retries` settings (docs/configuration.md, "Retries").
///
/// A value chosen when the configuration is loaded; the exchange state machine asks it after
/// each failed attempt. The retry budget shared by all workers is not part of it.
///
/// Plain bits, no references: it lives inside every exchange's state machine, which is
/// copied and reset per request without reference counting.
package struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt.
    package var maxRetries: Int
    /// The conditions that allow a retry.
    package var conditions: RetryConditions
    /// Statuses retried under `retriable_status`.
    package var retriableStatuses: StatusSet
    /// Whether POST and PATCH may be retried on more than a connect failure.
    package var retryNonIdempotent: Bool
    /// Backoff before retry n is random in [0, min(backoffMax, backoffBase × 2^n)].
    package var backoffBase: TimeSpan
    package var backoffMax: TimeSpan
    /// Each attempt's own time limit (`perTryTimeoutMs`); zero for none.
    package var perTryTimeout: TimeSpan = .zero
    /// The longest `Retry-After` wait honoured when the request has no deadline (the idle
    /// timeout, which a longer silence would exceed); nil for no limit.
    package var longestRequestedWait: TimeSpan? = nil

    /// No retries at all.
    package static let none = RetryPolicy(
        maxRetries: 0, conditions: [], retriableStatuses: [], retryNonIdempotent: false,
        backoffBase: .zero, backoffMax: .zero)

    package init(
        maxRetries: Int, conditions: RetryConditions, retriableStatuses: [Int], retryNonIdempotent: Bool,
        backoffBase: TimeSpan, backoffMax: TimeSpan
    ) {
        self.maxRetries = maxRetries
        self.conditions = conditions
        self.retriableStatuses = StatusSet(retriableStatuses)
        self.retryNonIdempotent = retryNonIdempotent
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
    }

    package init(_ config: RetryConfig) {
        self.init(
            maxRetries: config.maxRetries, conditions: RetryConditions(config.retryOn),
            retriableStatuses: config.retriableStatusCodes, retryNonIdempotent: config.retryNonIdempotent,
            backoffBase: config.backoff.base, backoffMax: config.backoff.max)
        perTryTimeout = config.perTryTimeout
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

    /// Whether a request may be tried again after its body went out (a retry after a reset,
    /// a timeout or a status; a failed connect sent nothing): then its body is worth keeping.
    package func mayRetryAfterSending(idempotent: Bool) -> Bool {
        guard maxRetries > 0, idempotent || retryNonIdempotent else { return false }
        return !conditions.subtracting(.connectFailure).isEmpty
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

/// A set of `RetryCondition`s as bits.
package struct RetryConditions: OptionSet, Sendable, Hashable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let connectFailure = RetryConditions(rawValue: 1 << 0)
    package static let reset = RetryConditions(rawValue: 1 << 1)
    package static let fiveXX = RetryConditions(rawValue: 1 << 2)
    package static let gatewayError = RetryConditions(rawValue: 1 << 3)
    package static let perTryTimeout = RetryConditions(rawValue: 1 << 4)
    package static let retriableStatus = RetryConditions(rawValue: 1 << 5)

    package init(_ conditions: [RetryCondition]) {
        self = []
        for condition in conditions {
            switch condition {
            case .connectFailure: insert(.connectFailure)
            case .reset: insert(.reset)
            case .fiveXX: insert(.fiveXX)
            case .gatewayError: insert(.gatewayError)
            case .perTryTimeout: insert(.perTryTimeout)
            case .retriableStatus: insert(.retriableStatus)
            }
        }
    }
}

/// A set of HTTP status codes 100...599 as a bitmap (no storage to reference-count).
package struct StatusSet: Sendable, Equatable {
    private var low: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var high: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    package init(_ statuses: [Int] = []) {
        for status in statuses where (100...599).contains(status) { insert(status) }
    }

    package func contains(_ status: Int) -> Bool {
        guard (100...599).contains(status) else { return false }
        let bit = status - 100
        return word(bit >> 6) & (1 << UInt64(bit & 63)) != 0
    }

    private mutating func insert(_ status: Int) {
        let bit = status - 100
        let mask: UInt64 = 1 << UInt64(bit & 63)
        switch bit >> 6 {
        case 0: low.0 |= mask
        case 1: low.1 |= mask
        case 2: low.2 |= mask
        case 3: low.3 |= mask
        case 4: high.0 |= mask
        case 5: high.1 |= mask
        case 6: high.2 |= mask
        default: high.3 |= mask
        }
    }

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: low.0
        case 1: low.1
        case 2: low.2
        case 3: low.3
        case 4: high.0
        case 5: high.1
        case 6: high.2
        default: high.3
        }
    }

    package static func == (lhs: StatusSet, rhs: StatusSet) -> Bool {
        (0..<8).allSatisfy { lhs.word($0) == rhs.word($0) }
    }
}
