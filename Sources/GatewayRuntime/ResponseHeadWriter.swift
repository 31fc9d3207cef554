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
        let hasConnectionField = Bytes.connectionNamesOtherFields(head.fields, bytes)
        for field in head.fields where !field.known.isHopByHop {
            let name = field.name.bytes(in: bytes)
            if hasConnectionField && isListedInConnection(name, head, bytes) { continue }
            writeField(field, name: name, bytes: bytes, into: &out)
        }
        HTTP1Writer.endOfHead(into: &out)
    }

    static func writeFinal(
        _ head: ResponseHead, from bytes: UnsafeRawBufferPointer, framing: ProxyExchange.ResponseFraming,
        exchange: ProxyExchange, closeClient: Bool, into out: inout [UInt8]
    ) {
        HTTP1Writer.statusLine(status: head.status, reason: head.reason.bytes(in: bytes), into: &out)
        let rules = exchange.route.responseHeaders
        var hasConnectionField = false
        var viaCount = 0
        var sawDate = false
        for field in head.fields {
            switch field.known {
            case .connection: hasConnectionField = true
            case .via: viaCount += 1
            case .date: sawDate = true
            default: break
            }
        }
        if hasConnectionField { hasConnectionField = Bytes.connectionNamesOtherFields(head.fields, bytes) }
        for field in head.fields {
            switch field.known {
            case .contentLength, .via, .xRequestId:
                continue  // written anew below
            default:
                if field.known.isHopByHop { continue }
            }
            let name = field.name.bytes(in: bytes)
            if hasConnectionField && isListedInConnection(name, head, bytes) { continue }
            if !rules.isEmpty && rules.drops(name) { continue }
            writeField(field, name: name, bytes: bytes, into: &out)
        }
        if !sawDate {
            HTTP1Writer.field(name: FieldName.date, value: exchange.worker.dateCache.current(), into: &out)
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
        HTTP1Writer.field(name: FieldName.xRequestID, value: exchange.record.requestID, into: &out)
        for entry in rules.set { HTTP1Writer.field(name: entry.name, value: entry.value, into: &out) }
        switch framing {
        case .contentLength:
            HTTP1Writer.field(name: FieldName.contentLength, decimal: head.contentLength ?? 0, into: &out)
        case .chunked:
            HTTP1Writer.field(name: FieldName.transferEncoding, value: FieldValue.chunked, into: &out)
        case .none:
            // HEAD responses and 304 keep the length the upstream announced (RFC 9110 §8.6).
            if let length = head.contentLength, head.status != 204 && !(100..<200).contains(head.status) {
                HTTP1Writer.field(name: FieldName.contentLength, decimal: length, into: &out)
            }
        case .closeDelimited:
            break
        }
        if closeClient {
            HTTP1Writer.field(name: FieldName.connection, value: FieldValue.close, into: &out)
        } else if exchange.isHTTP10Client {
            HTTP1Writer.field(name: FieldName.connection, value: FieldValue.keepAlive, into: &out)
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

    /// Whether `name` is listed in a Connection field (RFC 9110 §7.6.1).
    private static func isListedInConnection(
        _ name: UnsafeRawBufferPointer, _ head: ResponseHead, _ bytes: UnsafeRawBufferPointer
    ) -> Bool {
        var listed = false
        for field in head.fields where field.known == .connection {
            Bytes.forEachListElement(field.value.bytes(in: bytes)) { token in
                if !listed && Bytes.equalsIgnoringCase(name, token) { listed = true }
            }
        }
        return listed
    }
}
