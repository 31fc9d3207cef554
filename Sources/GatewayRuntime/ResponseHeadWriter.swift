import HTTP1

/// Serializes response heads towards the client (SPEC section 4): hop-by-hop fields and
/// the fields `Connection` names removed, framing written anew, Via appended, Date added
/// when missing, X-Request-Id set, the route's response header rules applied.
enum ResponseHeadWriter {
    /// An interim (1xx) response, forwarded as received minus hop-by-hop fields.
    static func writeInterim(
        _ head: ResponseHead, from bytes: UnsafeRawBufferPointer, into out: inout [UInt8]
    ) {
        HTTP1Writer.statusLine(status: head.status, reason: head.reason.bytes(in: bytes), into: &out)
        let listed = connectionListedNames(head, bytes)
        for field in head.fields where !field.known.isHopByHop {
            let name = field.name.bytes(in: bytes)
            if listed.contains(where: { Bytes.equalsIgnoringCase(name, $0) }) { continue }
            writeField(field, name: name, bytes: bytes, into: &out)
        }
        HTTP1Writer.endOfHead(into: &out)
    }

    static func writeFinal(
        _ head: ResponseHead, from bytes: UnsafeRawBufferPointer, framing: ProxyExchange.ResponseFraming,
        exchange: ProxyExchange, closeClient: Bool, into out: inout [UInt8]
    ) {
        HTTP1Writer.statusLine(status: head.status, reason: head.reason.bytes(in: bytes), into: &out)
        let listed = connectionListedNames(head, bytes)
        let rules = exchange.route.responseHeaders
        var via: [UInt8] = []
        var sawDate = false
        var contentLength: UInt64?
        for field in head.fields {
            let name = field.name.bytes(in: bytes)
            switch field.known {
            case .contentLength:
                contentLength = head.contentLength
                continue
            case .via:
                via.append(contentsOf: field.value.bytes(in: bytes))
                via.append(contentsOf: [UInt8(ascii: ","), 0x20])
                continue
            case .xRequestId:
                continue
            case .date:
                sawDate = true
            default:
                if field.known.isHopByHop { continue }
            }
            if !listed.isEmpty && listed.contains(where: { Bytes.equalsIgnoringCase(name, $0) }) { continue }
            if !rules.isEmpty && rules.drops(name) { continue }
            writeField(field, name: name, bytes: bytes, into: &out)
        }
        if !sawDate {
            HTTP1Writer.field(name: "Date".utf8, value: exchange.worker.dateCache.current(), into: &out)
        }
        via.append(contentsOf: "1.1 portico".utf8)
        HTTP1Writer.field(name: "Via".utf8, value: via, into: &out)
        HTTP1Writer.field(name: "X-Request-Id".utf8, value: exchange.record.requestID, into: &out)
        for entry in rules.set { HTTP1Writer.field(name: entry.name, value: entry.value, into: &out) }
        switch framing {
        case .contentLength:
            var text: [UInt8] = []
            Bytes.appendDecimal(head.contentLength ?? 0, to: &text)
            HTTP1Writer.field(name: "Content-Length".utf8, value: text, into: &out)
        case .chunked:
            HTTP1Writer.field(name: "Transfer-Encoding".utf8, value: "chunked".utf8, into: &out)
        case .none:
            // HEAD responses and 304 keep the length the upstream announced (RFC 9110 §8.6).
            if let contentLength, head.status != 204 && !(100..<200).contains(head.status) {
                var text: [UInt8] = []
                Bytes.appendDecimal(contentLength, to: &text)
                HTTP1Writer.field(name: "Content-Length".utf8, value: text, into: &out)
            }
        case .closeDelimited:
            break
        }
        if closeClient {
            HTTP1Writer.field(name: "Connection".utf8, value: "close".utf8, into: &out)
        } else if exchange.isHTTP10Client {
            HTTP1Writer.field(name: "Connection".utf8, value: "keep-alive".utf8, into: &out)
        }
        HTTP1Writer.endOfHead(into: &out)
    }

    private static func writeField(
        _ field: HeaderField, name: UnsafeRawBufferPointer, bytes: UnsafeRawBufferPointer,
        into out: inout [UInt8]
    ) {
        if field.needsUnfolding {
            HTTP1Writer.unfoldedField(name: name, value: field.value.bytes(in: bytes), into: &out)
        } else {
            HTTP1Writer.field(name: name, value: field.value.bytes(in: bytes), into: &out)
        }
    }

    private static func connectionListedNames(
        _ head: ResponseHead, _ bytes: UnsafeRawBufferPointer
    ) -> [UnsafeRawBufferPointer] {
        var names: [UnsafeRawBufferPointer] = []
        for field in head.fields where field.known == .connection {
            Bytes.forEachListElement(field.value.bytes(in: bytes)) { names.append($0) }
        }
        return names
    }
}
