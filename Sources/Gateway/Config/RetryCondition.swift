/// An outcome that may be retried (`retries.retryOn`), spelled as in the configuration.
public enum RetryCondition: String, Sendable, Hashable, CaseIterable {
    /// The TCP connect was refused or timed out.
    case connectFailure = "connect_failure"
    /// The connection was closed or reset before a complete response head.
    case reset = "reset"
    /// Any 5xx response.
    case fiveXX = "5xx"
    /// A 502, 503 or 504 response.
    case gatewayError = "gateway_error"
    /// The attempt's own deadline (`perTryTimeoutMs`) passed.
    case perTryTimeout = "per_try_timeout"
    /// A status listed in `retriableStatusCodes`.
    case retriableStatus = "retriable_status"
}
