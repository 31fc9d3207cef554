import Gateway
import HTTP1

/// Serializes the request head sent upstream (SPEC section 4): origin-form target, Host,
/// hop-by-hop fields removed (with every field `Connection` names) before anything is added,
/// X-Forwarded-*, X-Request-Id, Via, the route's header rules, and new framing fields.
///
/// Writes straight into `out` (a buffer the worker reuses), with no array per field.
struct UpstreamRequestHead {
    let head: RequestHead
    /// The client's bytes the head's spans point into.
    let bytes: UnsafeRawBufferPointer
    let route: RuntimeRoute
    let peerTrusted: Bool
    let requestID: [UInt8]
    let deadlineMs: Int?
    /// The connection's peer, appended to X-Forwarded-For.
    let peerAddress: [UInt8]

    /// Appends the head; `writeTarget` appends the request target.
    func write(into out: inout [UInt8], writeTarget: (inout [UInt8]) -> Void) {
        out.append(contentsOf: head.methodSpan.bytes(in: bytes))
        out.append(0x20)
        writeTarget(&out)
        out.append(contentsOf: FieldValue.requestLineEnd)
        let host: UnsafeRawBufferPointer? = head.host.map { $0.bytes(in: bytes) }
        if let rewrite = route.hostRewrite {
            HTTP1Writer.field(name: FieldName.host, value: rewrite, into: &out)
        } else if let host {
            HTTP1Writer.field(name: FieldName.host, value: host, into: &out)
        }

        var hasConnectionField = false
        var forwardedForCount = 0
        var viaCount = 0
        var keptProto = false
        var keptForwardedHost = false
        for field in head.fields {
            switch field.known {
            case .connection: hasConnectionField = true
            case .xForwardedFor: forwardedForCount += 1
            case .via: viaCount += 1
            default: break
            }
        }
        if hasConnectionField { hasConnectionField = Bytes.connectionNamesOtherFields(head.fields, bytes) }
        let rules = route.requestHeaders
        for field in head.fields {
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
            if hasConnectionField && isListedInConnection(name) { continue }
            if !rules.isEmpty && rules.drops(name) { continue }
            HTTP1Writer.field(name: name, value: field.value.bytes(in: bytes), into: &out)
        }

        // X-Forwarded-For: the client's list (several fields joined in order) plus the peer.
        out.append(contentsOf: FieldName.xForwardedFor)
        out.append(contentsOf: FieldValue.fieldSeparator)
        if forwardedForCount > 0 {
            for field in head.fields where field.known == .xForwardedFor {
                out.append(contentsOf: field.value.bytes(in: bytes))
                out.append(contentsOf: FieldValue.listSeparator)
            }
        }
        out.append(contentsOf: peerAddress)
        out.append(contentsOf: FieldValue.crlf)
        if !keptProto {
            HTTP1Writer.field(name: FieldName.xForwardedProto, value: FieldValue.http, into: &out)
        }
        if !keptForwardedHost, let host {
            HTTP1Writer.field(name: FieldName.xForwardedHost, value: host, into: &out)
        }
        HTTP1Writer.field(name: FieldName.xRequestID, value: requestID, into: &out)
        if let deadlineMs {
            HTTP1Writer.field(
                name: FieldName.xRequestTimeoutMs, decimal: UInt64(max(0, deadlineMs)), into: &out)
        }
        out.append(contentsOf: FieldName.via)
        out.append(contentsOf: FieldValue.fieldSeparator)
        if viaCount > 0 {
            for field in head.fields where field.known == .via {
                out.append(contentsOf: field.value.bytes(in: bytes))
                out.append(contentsOf: FieldValue.listSeparator)
            }
        }
        out.append(contentsOf: FieldValue.viaPortico)
        out.append(contentsOf: FieldValue.crlf)
        for entry in rules.set {
            HTTP1Writer.field(name: entry.name, value: entry.value, into: &out)
        }
        switch head.framing {
        case .contentLength(let length):
            HTTP1Writer.field(name: FieldName.contentLength, decimal: length, into: &out)
        case .chunked:
            HTTP1Writer.field(name: FieldName.transferEncoding, value: FieldValue.chunked, into: &out)
        case .none, .untilClose:
            break
        }
        HTTP1Writer.endOfHead(into: &out)
    }

    /// Whether `name` is listed in a Connection field (RFC 9110 §7.6.1).
    private func isListedInConnection(_ name: UnsafeRawBufferPointer) -> Bool {
        var listed = false
        for field in head.fields where field.known == .connection {
            Bytes.forEachListElement(field.value.bytes(in: bytes)) { token in
                if !listed && Bytes.equalsIgnoringCase(name, token) { listed = true }
            }
        }
        return listed
    }
}
