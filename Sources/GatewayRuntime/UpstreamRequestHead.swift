import Gateway
import HTTP1

/// Serializes the request head sent upstream (SPEC section 4): origin-form target, Host,
/// hop-by-hop fields removed (with every field `Connection` names) before anything is added,
/// X-Forwarded-*, X-Request-Id, Via, the route's header rules, and new framing fields.
struct UpstreamRequestHead {
    let head: RequestHead
    /// The client's bytes the head's spans point into.
    let bytes: UnsafeRawBufferPointer
    let route: RuntimeRoute
    let clientIP: String
    let peerTrusted: Bool
    let requestID: [UInt8]
    let deadlineMs: Int?

    /// Appends the head, with `target` as the request target.
    func write(target: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        HTTP1Writer.requestLine(method: head.methodSpan.bytes(in: bytes), target: target, into: &out)
        let host: UnsafeRawBufferPointer? = head.host.map { $0.bytes(in: bytes) }
        if let rewrite = route.hostRewrite {
            HTTP1Writer.field(name: "Host".utf8, value: rewrite, into: &out)
        } else if let host {
            HTTP1Writer.field(name: HostName.bytes, value: host, into: &out)
        }

        let connectionTokens = connectionListedNames()
        var forwardedFor: [UnsafeRawBufferPointer] = []
        var via: [UnsafeRawBufferPointer] = []
        var keptProto = false
        var keptForwardedHost = false
        for field in head.fields {
            let name = field.name.bytes(in: bytes)
            let value = field.value.bytes(in: bytes)
            switch field.known {
            case .host, .contentLength, .expect, .xRequestId, .xRequestTimeoutMs:
                continue  // written anew below
            case .xForwardedFor:
                forwardedFor.append(value)
                continue
            case .via:
                via.append(value)
                continue
            case .xForwardedProto:
                guard peerTrusted else { continue }
                keptProto = true
            case .xForwardedHost:
                guard peerTrusted else { continue }
                keptForwardedHost = true
            default:
                if field.known.isHopByHop { continue }
            }
            if !connectionTokens.isEmpty
                && connectionTokens.contains(where: { Bytes.equalsIgnoringCase(name, $0) })
            {
                continue
            }
            if route.requestHeaders.drops(name) { continue }
            HTTP1Writer.field(name: name, value: value, into: &out)
        }

        // X-Forwarded-For: the client's list (several fields joined in order) plus the peer.
        var forwarded: [UInt8] = []
        for part in forwardedFor {
            if !forwarded.isEmpty { forwarded.append(contentsOf: [UInt8(ascii: ","), 0x20]) }
            forwarded.append(contentsOf: part)
        }
        if !forwarded.isEmpty { forwarded.append(contentsOf: [UInt8(ascii: ","), 0x20]) }
        forwarded.append(contentsOf: peerIP.utf8)
        HTTP1Writer.field(name: "X-Forwarded-For".utf8, value: forwarded, into: &out)
        if !keptProto { HTTP1Writer.field(name: "X-Forwarded-Proto".utf8, value: "http".utf8, into: &out) }
        if !keptForwardedHost, let host {
            HTTP1Writer.field(name: "X-Forwarded-Host".utf8, value: host, into: &out)
        }
        HTTP1Writer.field(name: "X-Request-Id".utf8, value: requestID, into: &out)
        if let deadlineMs {
            var text: [UInt8] = []
            Bytes.appendDecimal(deadlineMs, to: &text)
            HTTP1Writer.field(name: "X-Request-Timeout-Ms".utf8, value: text, into: &out)
        }
        var viaValue: [UInt8] = []
        for part in via {
            viaValue.append(contentsOf: part)
            viaValue.append(contentsOf: [UInt8(ascii: ","), 0x20])
        }
        viaValue.append(contentsOf: "1.1 portico".utf8)
        HTTP1Writer.field(name: "Via".utf8, value: viaValue, into: &out)
        for entry in route.requestHeaders.set {
            HTTP1Writer.field(name: entry.name, value: entry.value, into: &out)
        }
        switch head.framing {
        case .contentLength(let length):
            var text: [UInt8] = []
            Bytes.appendDecimal(length, to: &text)
            HTTP1Writer.field(name: "Content-Length".utf8, value: text, into: &out)
        case .chunked:
            HTTP1Writer.field(name: "Transfer-Encoding".utf8, value: "chunked".utf8, into: &out)
        case .none, .untilClose:
            break
        }
        HTTP1Writer.endOfHead(into: &out)
    }

    /// The peer's address as X-Forwarded-For gets it: always the connection's peer, so the
    /// chain stays verifiable hop by hop (the trusted-proxy logic only picks the client IP).
    var peerIP: String { peerAddressText }
    let peerAddressText: String

    /// Field names listed in Connection (RFC 9110 §7.6.1), as byte views into the head.
    private func connectionListedNames() -> [UnsafeRawBufferPointer] {
        var names: [UnsafeRawBufferPointer] = []
        for field in head.fields where field.known == .connection {
            Bytes.forEachListElement(field.value.bytes(in: bytes)) { names.append($0) }
        }
        return names
    }
}

private enum HostName {
    static let bytes: [UInt8] = Array("Host".utf8)
}
