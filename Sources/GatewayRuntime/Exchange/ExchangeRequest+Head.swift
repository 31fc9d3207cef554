import Gateway
import HTTP1

extension ExchangeRequest {
    /// The facts of a parsed request head (here, not in `Gateway`, so it inlines into the
    /// request path).
    init(_ head: borrowing RequestHead) {
        self.init(
            isIdempotent: head.method.isIdempotent, clientIsHTTP11: head.version == .http11,
            clientKeepAlive: head.isKeepAlive, hasBody: !head.framing.isEmpty,
            expectsContinue: head.expectContinue)
    }
}
