/// What the fields of a head say about framing, connection handling and Host, gathered in one
/// pass over the recognised fields once the head is complete.
struct FramingFields {
    var hostCount = 0
    var host = ByteSpan(unchecked: 0, 0)
    var contentLength: UInt64?
    var hasContentLength = false
    var hasTransferEncoding = false
    var codings = TransferCodings()
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    /// `Connection` lists a token other than close, keep-alive and upgrade: a field to drop.
    var connectionNamesOthers = false
    var expectContinue = false

    /// Reads the recognised fields; throws `failure(...)` on an invalid or conflicting
    /// Content-Length (RFC 9112 §6.3 rule 5; RFC 9110 §8.6).
    init(
        _ fields: [HeaderField], _ buffer: UnsafeRawBufferPointer, failure: (String) -> HTTP1ParseError
    ) throws(HTTP1ParseError) {
        for field in fields where field.known != .other {
            let value = field.value.bytes(in: buffer)
            switch field.known {
            case .host:
                hostCount += 1
                host = field.value
            case .contentLength:
                guard let length = FramingFields.parseContentLength(value) else {
                    throw failure("invalid Content-Length")
                }
                if hasContentLength && contentLength != length {
                    throw failure("conflicting Content-Length")
                }
                hasContentLength = true
                contentLength = length
            case .transferEncoding:
                hasTransferEncoding = true
                codings.add(value)
            case .connection:
                FieldList.forEachElement(in: value) { range in
                    let token = UnsafeRawBufferPointer(rebasing: value[range])
                    if FieldList.equalsIgnoringCase(token, "close") {
                        connectionClose = true
                    } else if FieldList.equalsIgnoringCase(token, "keep-alive") {
                        connectionKeepAlive = true
                    } else if FieldList.equalsIgnoringCase(token, "upgrade") {
                        connectionUpgrade = true
                    } else {
                        connectionNamesOthers = true
                    }
                }
            case .expect:
                if FieldList.equalsIgnoringCase(value, "100-continue") { expectContinue = true }
            default:
                break
            }
        }
    }

    /// Parses `1*DIGIT`, or a list of identical such values ("5, 5", RFC 9110 §8.6). Signs, hex,
    /// inner spaces, empty elements and values above `Int64.max` give nil.
    static func parseContentLength(_ value: UnsafeRawBufferPointer) -> UInt64? {
        var result: UInt64?
        var i = 0
        let n = value.count
        guard n > 0 else { return nil }
        while true {
            var number: UInt64 = 0
            let start = i
            while i < n, ByteClass.isDigit(value[i]) {
                let digit = UInt64(value[i] &- 0x30)
                guard number <= (UInt64(Int64.max) - digit) / 10 else { return nil }
                number = number * 10 + digit
                i += 1
            }
            guard i > start else { return nil }
            if let result, result != number { return nil }
            result = number
            while i < n, ByteClass.isWhitespace(value[i]) { i += 1 }
            if i == n { return result }
            guard value[i] == ByteClass.comma else { return nil }
            i += 1
            while i < n, ByteClass.isWhitespace(value[i]) { i += 1 }
        }
    }
}

/// The transfer codings listed by every Transfer-Encoding line of a head, in order.
struct TransferCodings {
    var count = 0
    var chunkedCount = 0
    var lastIsChunked = false
    var hasUnknown = false
    var isMalformed = false

    /// Adds the codings of one Transfer-Encoding field value.
    mutating func add(_ value: UnsafeRawBufferPointer) {
        FieldList.forEachElement(in: value) { range in
            let coding = UnsafeRawBufferPointer(rebasing: value[range])
            count += 1
            // Parameters are not accepted: no coding the gateway handles has any, and a
            // "chunked;x" that another parser reads differently is exactly what smuggling needs.
            guard ByteClass.isTokenSequence(coding) else {
                isMalformed = true
                return
            }
            lastIsChunked = FieldList.equalsIgnoringCase(coding, "chunked")
            if lastIsChunked {
                chunkedCount += 1
            } else if !TransferCodings.isRegistered(coding) {
                hasUnknown = true
            }
        }
    }

    /// True when the list is exactly `chunked`.
    var isChunkedOnly: Bool { count == 1 && chunkedCount == 1 && !isMalformed }

    /// The codings of the HTTP transfer coding registry (RFC 9112 §7) other than chunked.
    /// "identity" was removed from HTTP/1.1 (RFC 7230 §8.4) and counts as unknown.
    static func isRegistered(_ coding: UnsafeRawBufferPointer) -> Bool {
        FieldList.equalsIgnoringCase(coding, "gzip") || FieldList.equalsIgnoringCase(coding, "deflate")
            || FieldList.equalsIgnoringCase(coding, "compress")
            || FieldList.equalsIgnoringCase(coding, "x-gzip")
            || FieldList.equalsIgnoringCase(coding, "x-compress")
    }
}
