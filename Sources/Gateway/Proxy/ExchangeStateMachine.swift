/// The phases of one proxied request and the edges between them: events in, actions out.
///
/// The runtime performs the actions (sockets, timers, writes); every way an exchange can
/// end — success, upstream failure, deadline, client cancel — is an edge here, so it is
/// visible and tested without sockets. Retries and per-try timeouts add edges from the
/// failure events before the response head (only then can a request be replayed).
public struct ExchangeStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        /// Picking a server and getting a pooled or new connection.
        case connecting
        /// Request going out; no response head yet.
        case awaitingResponseHead
        /// The response head went to the client; its body is flowing.
        case streamingResponse
        case finished(Outcome)
    }

    public enum Outcome: Sendable, Equatable {
        /// The upstream response reached the client whole.
        case completed
        /// A gateway-made error response was sent instead of an upstream response.
        case failed(ProxyError.Kind)
        /// The response was cut off after its head was sent; the client connection closes.
        case truncated
        /// The client went away first (logged as 499).
        case cancelled
    }

    public enum Action: Sendable, Equatable {
        /// Start writing the request on the new connection.
        case sendRequest
        /// Close the upstream connection (if any) and answer the client with this error.
        case respondWithError(ProxyError)
        /// Forward the response head to the client.
        case forwardResponseHead
        /// Close both connections: the client got part of a response and must not take it as whole.
        case abortClient
        /// Close the upstream connection; the client is gone.
        case cancelUpstream
        /// The exchange is done; hand the upstream connection back to the pool if `reuseUpstream`.
        case finish(reuseUpstream: Bool)
        /// Nothing to do (a late or repeated event).
        case none
    }

    public private(set) var state: State = .connecting

    public init() {}

    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    public mutating func connectionReady() -> Action {
        guard state == .connecting else { return .none }
        state = .awaitingResponseHead
        return .sendRequest
    }

    public mutating func connectFailed(_ message: String) -> Action {
        guard state == .connecting else { return .none }
        return fail(ProxyError(.upstreamConnectFailed, message))
    }

    /// The pool refused to queue the request (`maxPending`).
    public mutating func overloaded() -> Action {
        guard state == .connecting else { return .none }
        return fail(ProxyError(.upstreamOverloaded, "too many requests waiting for an upstream connection"))
    }

    /// The upstream connection closed or reset; `message` says how.
    public mutating func upstreamClosed(_ message: String) -> Action {
        switch state {
        case .connecting, .awaitingResponseHead:
            return fail(ProxyError(.upstreamReset, message))
        case .streamingResponse:
            state = .finished(.truncated)
            return .abortClient
        case .finished:
            return .none
        }
    }

    /// The upstream sent something that is not a valid HTTP/1.1 response.
    public mutating func upstreamBadResponse(_ message: String) -> Action {
        switch state {
        case .connecting, .awaitingResponseHead:
            return fail(ProxyError(.upstreamBadResponse, message))
        case .streamingResponse:
            state = .finished(.truncated)
            return .abortClient
        case .finished:
            return .none
        }
    }

    public mutating func responseHeadReceived() -> Action {
        guard state == .awaitingResponseHead else { return .none }
        state = .streamingResponse
        return .forwardResponseHead
    }

    public mutating func deadlineExpired() -> Action {
        switch state {
        case .connecting, .awaitingResponseHead:
            return fail(
                ProxyError(.deadlineExceeded, "the request deadline passed before a response arrived"))
        case .streamingResponse:
            state = .finished(.truncated)
            return .abortClient
        case .finished:
            return .none
        }
    }

    public mutating func clientGone() -> Action {
        guard !isFinished else { return .none }
        state = .finished(.cancelled)
        return .cancelUpstream
    }

    /// The whole response went to the client; `reusable` when both messages were well framed
    /// and neither side asked to close.
    public mutating func responseComplete(reusable: Bool) -> Action {
        guard state == .streamingResponse else { return .none }
        state = .finished(.completed)
        return .finish(reuseUpstream: reusable)
    }

    private mutating func fail(_ error: ProxyError) -> Action {
        state = .finished(.failed(error.kind))
        return .respondWithError(error)
    }
}
