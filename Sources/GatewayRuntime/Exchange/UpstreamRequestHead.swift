import Gateway
import HTTP1

/// Serializes the request head sent upstream (README, "How requests are handled"):
/// origin-form target, Host, hop-by-hop fields removed (with every field `Connection` names,
/// RFC 9110 §7.6.1) before anything is added, X-Forwarded-*, X-Request-Id, Via, the route's
/// header rules, and new framing fields.
///
/// Writes straight into `out` (a buffer the worker reuses), with no array per field.
/// A namespace, not a value: the head and the rest are passed in (borrowed), so writing one
/// copies nothing and touches no reference count.
enum UpstreamRequestHead {
    /// Appends the head with `target` as the request target. `bytes` are the client's bytes
    /// the head's spans point into; `named` is what the head's Connection names (see
    /// `ConnectionNames`); `peerAddress` is appended to X-Forwarded-For. `upgrade`: the
    /// request asks for WebSocket (`RequestHead.asksForWebSocket`) and goes out asking too.
    static func write(
        _ head: borrowing RequestHead, bytes: UnsafeRawBufferPointer, named: ConnectionNames,
        route: RuntimeRoute, peerTrusted: Bool, requestID: borrowing RequestID, millisecondsLeft: UInt64?,
        peerAddress: borrowing String, target: UnsafeRawBufferPointer, upgrade: Bool = false,
        into out: inout HeadWriter
    ) -> Range<Int>? {
        out.append(head.methodSpan.bytes(in: bytes))
        out.append(byte: 0x20)
        out.append(target)
        out.append(" HTTP/1.1\r\n")
        // Host is sent even when Connection names it: HTTP/1.1 requires it (RFC 9112 §3.2).
        let host: UnsafeRawBufferPointer? = head.host.map { $0.bytes(in: bytes) }
        if let rewrite = route.hostRewrite {
            out.field("Host", rewrite)
        } else if let host {
            out.field("Host", host)
        }

        var forwardedForCount = 0
        var viaCount = 0
        var keptProto = false
        var keptForwardedHost = false
        for field in head.fields {
            switch field.known {
            case .xForwardedFor: forwardedForCount += 1
            case .via: viaCount += 1
            default: break
            }
        }
        // Received lists named by Connection are removed, not extended (RFC 9110 §7.6.1).
        let extendsForwardedFor = forwardedForCount > 0 && !named.contains(.xForwardedFor)
        let extendsVia = viaCount > 0 && !named.contains(.via)
        let rules = route.requestHeaders
        for field in head.fields {
            // Before anything is kept: a named X-Forwarded-Proto or -Host is replaced below.
            if named.names(field, in: head.fields, bytes: bytes) { continue }
            switch field.known {
            case .host, .contentLength, .expect, .xRequestId, .xRequestTimeoutMs, .xForwardedFor, .via:
                continue  // written anew below
            case .xForwardedProto:
                guard peerTrusted else { continue }
                keptProto = true
            case .xForwardedHost:
                guard peerTrusted else { continue }
                keptForwardedHost = true
            default:
                if field.known.isHopByHop { continue }
            }
            let name = field.name.bytes(in: bytes)
            if !rules.isEmpty && rules.drops(name) { continue }
            out.field(name, field.value.bytes(in: bytes))
        }

        // X-Forwarded-For: the client's list (several fields joined in order) plus the peer.
        out.append("X-Forwarded-For")
        out.appendColonSpace()
        if extendsForwardedFor { out.appendValues(of: .xForwardedFor, in: head.fields, bytes: bytes) }
        var peer = copy peerAddress  // an IP fits a small string: no allocation
        peer.withUTF8 { out.append(UnsafeRawBufferPointer($0)) }
        out.appendCRLF()
        if !keptProto {
            out.field("X-Forwarded-Proto", "http")
        }
        if !keptForwardedHost, let host {
            out.field("X-Forwarded-Host", host)
        }
        requestID.withUnsafeBytes { out.field("X-Request-Id", $0) }
        var timeoutValue: Range<Int>?
        if let millisecondsLeft {
            out.append("X-Request-Timeout-Ms")
            out.appendColonSpace()
            let start = out.count
            out.appendDecimal(millisecondsLeft)
            timeoutValue = start..<out.count
            out.appendCRLF()
        }
        out.append("Via")
        out.appendColonSpace()
        if extendsVia { out.appendValues(of: .via, in: head.fields, bytes: bytes) }
        out.append("1.1 portico")
        out.appendCRLF()
        for entry in rules.set {
            out.field(entry.name, entry.value)
        }
        switch head.framing {
        case .contentLength(let length):
            out.field("Content-Length", decimal: length)
        case .chunked:
            out.field("Transfer-Encoding", "chunked")
        case .none, .untilClose:
            break
        }
        // The upgrade fields are hop-by-hop, removed above; a tunnel asks anew (RFC 9110 §7.8).
        if upgrade {
            out.field("Connection", "upgrade")
            out.field("Upgrade", "websocket")
        }
        out.endOfHead()
        return timeoutValue
    }
}
