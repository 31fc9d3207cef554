import Gateway
import HTTP1

/// Serializes response heads towards the client (README, "How requests are handled"):
/// hop-by-hop fields and the fields `Connection` names removed (RFC 9110 §7.6.1) before
/// anything is added, framing written anew, Via appended, Date added when missing,
/// X-Request-Id set, the route's response header rules applied, Location and
/// Content-Location mapped back through the route's rewrites (`RedirectRewrite`).
enum ResponseHeadWriter {
    /// An interim (1xx) response, forwarded as received minus hop-by-hop fields.
    static func writeInterim(
        _ head: ResponseHead, from bytes: UnsafeRawBufferPointer, into out: inout HeadWriter
    ) {
        out.statusLine(head.status, reason: head.reason.bytes(in: bytes))
        let named = ConnectionNames(of: head, bytes: bytes)
        for field in head.fields where !field.known.isHopByHop {
            if named.names(field, in: head.fields, bytes: bytes) { continue }
            writeField(field, name: field.name.bytes(in: bytes), bytes: bytes, into: &out)
        }
        out.endOfHead()
    }

    /// A 101 that opens a tunnel: a response like any other (Via appended, X-Request-Id,
    /// the route's header rules and RateLimit fields) with the upgrade fields, which say what
    /// the connection carries from now on (RFC 9110 §15.2.2), and no framing (it has no body).
    static func writeSwitchingProtocols(
        _ head: ResponseHead, from bytes: UnsafeRawBufferPointer, exchange: ProxyExchange,
        into out: inout HeadWriter
    ) {
        out.statusLine(head.status, reason: head.reason.bytes(in: bytes))
        let rules = exchange.route.responseHeaders
        let named = ConnectionNames(of: head, bytes: bytes)
        let rateLimit = exchange.rateLimitDecision != nil ? exchange.route.rateLimitRef : nil
        var viaCount = 0
        for field in head.fields where field.known == .via { viaCount += 1 }
        let extendsVia = viaCount > 0 && !named.contains(.via)
        for field in head.fields {
            switch field.known {
            case .contentLength, .via, .xRequestId:
                continue
            default:
                if field.known.isHopByHop { continue }
            }
            if named.names(field, in: head.fields, bytes: bytes) { continue }
            let name = field.name.bytes(in: bytes)
            if !rules.isEmpty && rules.drops(name) { continue }
            if rateLimit != nil && RuntimeRateLimit.isRateLimitField(name) { continue }
            writeField(field, name: name, bytes: bytes, into: &out)
        }
        out.append("Via")
        out.appendColonSpace()
        if extendsVia { out.appendValues(of: .via, in: head.fields, bytes: bytes) }
        out.append("1.1 portico")
        out.appendCRLF()
        exchange.record.requestID.withUnsafeBytes { out.field("X-Request-Id", $0) }
        for entry in rules.set { out.field(entry.name, entry.value) }
        if let rateLimit, let decision = exchange.rateLimitDecision {
            rateLimit._withUnsafeGuaranteedRef { $0.writeFields(decision, into: &out) }
        }
        out.field("Connection", "upgrade")
        out.field("Upgrade", "websocket")
        out.endOfHead()
    }

    static func writeFinal(
        _ head: ResponseHead, from bytes: UnsafeRawBufferPointer, plan: ResponsePlan, exchange: ProxyExchange,
        into out: inout HeadWriter
    ) {
        out.statusLine(head.status, reason: head.reason.bytes(in: bytes))
        let rules = exchange.route.responseHeaders
        let named = ConnectionNames(of: head, bytes: bytes)
        var viaCount = 0
        var sawDate = false
        for field in head.fields {
            switch field.known {
            case .via: viaCount += 1
            case .date: sawDate = true
            default: break
            }
        }
        // What Connection names is removed before the gateway adds its own (RFC 9110 §7.6.1):
        // a named Via is replaced, not extended; a named Date is replaced by the gateway's.
        let extendsVia = viaCount > 0 && !named.contains(.via)
        let keepsDate = sawDate && !named.contains(.date)
        let rateLimit = exchange.rateLimitDecision != nil ? exchange.route.rateLimitRef : nil
        for field in head.fields {
            switch field.known {
            case .contentLength, .via, .xRequestId:
                continue  // written anew below
            default:
                if field.known.isHopByHop { continue }
            }
            if named.names(field, in: head.fields, bytes: bytes) { continue }
            let name = field.name.bytes(in: bytes)
            if !rules.isEmpty && rules.drops(name) { continue }
            // The gateway's limit is what the client is told; an upstream's own would contradict it.
            if rateLimit != nil && RuntimeRateLimit.isRateLimitField(name) { continue }
            if field.known == .location || field.known == .contentLocation,
                let rewritten = rewrittenRedirect(field, bytes: bytes, exchange: exchange)
            {
                rewritten.withUnsafeBytes { out.field(name, $0) }
                continue
            }
            writeField(field, name: name, bytes: bytes, into: &out)
        }
        if !keepsDate {
            out.field("Date", exchange.worker.dateCache.current())
        }
        out.append("Via")
        out.appendColonSpace()
        if extendsVia { out.appendValues(of: .via, in: head.fields, bytes: bytes) }
        out.append("1.1 portico")
        out.appendCRLF()
        exchange.record.requestID.withUnsafeBytes { out.field("X-Request-Id", $0) }
        for entry in rules.set { out.field(entry.name, entry.value) }
        if let rateLimit, let decision = exchange.rateLimitDecision {
            rateLimit._withUnsafeGuaranteedRef { $0.writeFields(decision, into: &out) }
        }
        switch plan.framing {
        case .contentLength:
            out.field("Content-Length", decimal: head.contentLength ?? 0)
        case .chunked:
            out.field("Transfer-Encoding", "chunked")
        case .none:
            // HEAD responses and 304 keep the length the upstream announced (RFC 9110 §8.6).
            if let length = head.contentLength, head.status != 204 && !(100..<200).contains(head.status) {
                out.field("Content-Length", decimal: length)
            }
        case .closeDelimited:
            break
        }
        if plan.closeClient {
            out.field("Connection", "close")
        } else if exchange.isHTTP10Client {
            out.field("Connection", "keep-alive")
        }
        out.endOfHead()
    }

    /// The value a Location or Content-Location field is sent with instead of its own, or nil
    /// to send it as received (always on routes without a redirect rewrite).
    private static func rewrittenRedirect(
        _ field: HeaderField, bytes: UnsafeRawBufferPointer, exchange: ProxyExchange
    ) -> [UInt8]? {
        // A folded value is obsolete and a URI never spans lines (RFC 9112 §5.2): sent as is.
        guard let redirect = exchange.route.redirectRewrite, !field.needsUnfolding else { return nil }
        let value = field.value.bytes(in: bytes)
        guard let host = exchange.clientHost else { return redirect.rewrite(value, clientHost: nil) }
        return host.withUnsafeBytes { redirect.rewrite(value, clientHost: $0) }
    }

    private static func writeField(
        _ field: HeaderField, name: UnsafeRawBufferPointer, bytes: UnsafeRawBufferPointer,
        into out: inout HeadWriter
    ) {
        if field.needsUnfolding {
            out.unfoldedField(name, field.value.bytes(in: bytes))
        } else {
            out.field(name, field.value.bytes(in: bytes))
        }
    }
}
