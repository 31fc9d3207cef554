/// What one attempt says about its server, as the circuit breaker counts it
/// (docs/configuration.md, `circuitBreaker`). A server's `failures` counter (docs/operations.md)
/// counts the same except statuses: a 5xx is an answer there.
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

    /// The verdict of an attempt that a retry follows.
    package init(_ ending: AttemptEnd) {
        switch ending {
        case .answered(let status): self.init(status: status)
        case .upstreamFailed: self = .failure
        case .inconclusive: self = .inconclusive
        }
    }
}

/// How an attempt that a retry follows ended, for its server's counters and circuit breaker.
package enum AttemptEnd: Sendable, Hashable {
    /// The server answered with this final status, which the route retries.
    case answered(status: Int)
    /// The server failed it: connect failure, reset, malformed response, timeout.
    case upstreamFailed
    /// It ended without saying anything about the server (it timed out while the client was
    /// still sending the body).
    case inconclusive

    /// Counted among the server's `failures` (docs/operations.md): a status is an answer.
    package var countsAsFailure: Bool { self == .upstreamFailed }
}
