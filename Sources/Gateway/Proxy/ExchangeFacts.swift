import HTTP1

/// What the exchange state machine knows of the client's request, fixed when it starts.
package struct ExchangeRequest: Sendable, Equatable {
    /// GET, HEAD, PUT, DELETE, OPTIONS, TRACE (RFC 9110 §9.2.2): safe to send twice.
    package var isIdempotent: Bool
    /// HTTP/1.1 client: it may get interim responses and chunked bodies.
    package var clientIsHTTP11: Bool
    /// The client asked for (1.0) or did not refuse (1.1) keep-alive.
    package var clientKeepAlive: Bool
    /// A body follows the head (Content-Length > 0, or chunked).
    package var hasBody: Bool
    /// `Expect: 100-continue` with a body: the gateway answers it itself (docs/operations.md).
    package var expectsContinue: Bool
    /// The request asked to switch to a tunnel (`Upgrade: websocket`), and the upstream was
    /// asked too. A 101 is then the start of a tunnel instead of a protocol error.
    package var wantsUpgrade: Bool

    package init(
        isIdempotent: Bool, clientIsHTTP11: Bool, clientKeepAlive: Bool, hasBody: Bool,
        expectsContinue: Bool, wantsUpgrade: Bool = false
    ) {
        self.isIdempotent = isIdempotent
        self.clientIsHTTP11 = clientIsHTTP11
        self.clientKeepAlive = clientKeepAlive
        self.hasBody = hasBody
        self.expectsContinue = expectsContinue && hasBody
        self.wantsUpgrade = wantsUpgrade
    }
}

/// What the exchange state machine needs of a final upstream response head.
package struct ExchangeResponse: Sendable, Equatable {
    package var status: Int
    /// The body framing for the request's method (RFC 9112 §6.3).
    package var framing: BodyFraming
    /// The upstream keeps the connection open after this response (RFC 9112 §9.3).
    package var upstreamKeepsAlive: Bool
    /// A 503 or 429's `Retry-After` (RFC 9110 §10.2.3): a retry waits that long instead of
    /// its backoff, or is not made when that wait would end after the deadline.
    package var retryAfter: TimeSpan?

    package init(status: Int, framing: BodyFraming, upstreamKeepsAlive: Bool, retryAfter: TimeSpan? = nil) {
        self.status = status
        self.framing = framing
        self.upstreamKeepsAlive = upstreamKeepsAlive
        self.retryAfter = retryAfter
    }
}

/// How a response body is framed towards the client.
package enum ClientFraming: Sendable, Equatable {
    /// No body (HEAD, 204, 304, or an empty one).
    case none
    case contentLength
    case chunked
    /// An HTTP/1.0 client and a body of unknown length: sent raw, then the connection closes.
    case closeDelimited
}

/// How the shell writes a final response head (the machine's decision about it).
package struct ResponsePlan: Sendable, Equatable {
    package var framing: ClientFraming
    /// The response is the connection's last: `Connection: close`, then close after it.
    package var closeClient: Bool
    /// No body byte arrived with the head: queue the head and read the upstream once more, so
    /// head and body usually leave in one write.
    package var holdForBody: Bool

    package init(framing: ClientFraming, closeClient: Bool, holdForBody: Bool) {
        self.framing = framing
        self.closeClient = closeClient
        self.holdForBody = holdForBody
    }
}
