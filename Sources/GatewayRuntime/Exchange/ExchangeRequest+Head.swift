import Gateway
import HTTP1

extension ExchangeRequest {
    /// The facts of a parsed request head (here, not in `Gateway`, so it inlines into the
    /// request path). `wantsUpgrade`: see `RequestHead.asksForWebSocket`.
    init(_ head: borrowing RequestHead, wantsUpgrade: Bool) {
        self.init(
            isIdempotent: head.method.isIdempotent, clientIsHTTP11: head.version == .http11,
            clientKeepAlive: head.isKeepAlive, hasBody: !head.framing.isEmpty,
            expectsContinue: head.expectContinue, wantsUpgrade: wantsUpgrade)
    }
}

extension RequestHead {
    /// Whether the request asks to switch to WebSocket (RFC 6455 §4.1: an HTTP/1.1 GET
    /// without a body, `Connection: upgrade`, `Upgrade` listing `websocket`). Only such a
    /// request is forwarded with its upgrade fields and may become a tunnel; any other
    /// upgrade (h2c above all) loses the fields and goes out as a plain request, so no
    /// client can open an unchecked tunnel to an upstream.
    func asksForWebSocket(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard connectionUpgrade, version == .http11, method == .get, framing.isEmpty else { return false }
        var listed = false
        for field in fields where field.known == .upgrade {
            FieldList.forEachElement(in: field.value.bytes(in: bytes)) { range in
                let token = UnsafeRawBufferPointer(rebasing: field.value.bytes(in: bytes)[range])
                if FieldList.equalsIgnoringCase(token, "websocket") { listed = true }
            }
        }
        return listed
    }
}
