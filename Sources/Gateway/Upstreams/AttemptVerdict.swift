/// What one attempt says about its server, as the circuit breaker counts it
/// (docs/configuration.md, `circuitBreaker`; docs/operations.md counts the same failures).
///
/// The runtime classifies each attempt once, when it ends, and hands the verdict to
/// ``CircuitBreaker/record(_:of:at:_:)`` with the attempt's admission.
package enum AttemptVerdict: Sendable, Hashable {
    /// The server answered with a final status below 500.
    case success
    /// The connect failed, the connection reset or closed early, the response was not valid
    /// HTTP/1.1, the attempt timed out, or the status was a 5xx.
    case failure
    /// The attempt ended without telling anything about the server: the client left, the
    /// client's own body failed, or the gateway gave up for a reason of its own. A trial gives
    /// its slot back.
    case inconclusive

    /// The verdict of a final response status: any 5xx is a failure (RFC 9110 §15.6), anything
    /// else a success.
    package init(status: Int) {
        self = (500...599).contains(status) ? .failure : .success
    }

    /// The verdict of an attempt that failed before a complete response: always a failure
    /// (connect failure, reset, malformed response, per-try timeout).
    package init(_ failure: AttemptFailure) {
        switch failure {
        case .connectFailed, .reset, .badResponse, .perTryTimeout: self = .failure
        }
    }

    /// The verdict of an attempt that ended with a gateway error: a failure when the upstream
    /// caused it (``ProxyError/isUpstreamFailure``: connect failure, reset, malformed response,
    /// deadline), inconclusive when the client or the gateway's own limits did.
    package init(_ error: ProxyError) {
        self = error.isUpstreamFailure ? .failure : .inconclusive
    }
}
