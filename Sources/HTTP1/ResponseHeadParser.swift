/// Incremental parser of an upstream response head (RFC 9112 §4-§6), as strict as the request
/// parser except for the repairs RFC 9112 tells a proxy to make: whitespace before a field's
/// colon is dropped (§5.1) and obs-fold is accepted and marked for unfolding (§5.2).
///
/// Same feeding contract as `RequestHeadParser`: the whole response so far on every call. Errors
/// are `.badResponse` or `.headersTooLarge`; the gateway answers 502 and closes the upstream
/// connection. A 1xx head is complete on its own: parse the final head after it with a fresh
/// feed starting at its `headLength`.
public struct ResponseHeadParser: Sendable {
    private enum State: UInt8, Sendable {
        case version
        case statusCode
        case afterStatus
        case reason
        case statusLineFeed
        case fields
    }

    /// The limits this parser enforces.
    public let limits: HeadLimits
    private var state = State.version
    private var position = 0
    private var status = 0
    private var reasonStart = 0
    private var reasonEnd = 0
    private var version = HTTPVersion.http11
    private var scanner = FieldSectionScanner(repairs: true)

    /// Creates a parser for one upstream connection.
    public init(limits: HeadLimits) {
        self.limits = limits
    }

    /// Forgets any partial response.
    public mutating func reset() {
        state = .version
        position = 0
        status = 0
        scanner.reset()
    }

    /// Continues parsing `bytes` (the whole response so far); `.needMore` until the blank line.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer
    ) throws(HTTP1ParseError) -> HeadParseResult<ResponseHead> {
        var fieldStorage: [HeaderField] = []
        return try parse(bytes, fieldStorage: &fieldStorage)
    }

    /// `parse(_:)` with field storage lent by the caller: a loop passes the same array for
    /// every head it parses, so a head's field list is not a new allocation each time. The
    /// returned head shares that array's buffer; the next parse copies it only if the head
    /// is still alive.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer, fieldStorage: inout [HeaderField]
    ) throws(HTTP1ParseError) -> HeadParseResult<ResponseHead> {
        let limit = limits.maxHeaderBytes
        let end = min(bytes.count, limit)
        guard position < end, let raw = bytes.baseAddress else {
            if bytes.count >= limit {
                let error = HTTP1ParseError.headersTooLarge
                reset()
                throw error
            }
            return .needMore
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        do throws(HTTP1ParseError) {
            guard try scanStatusLine(base, end),
                try scanner.scan(base, &position, end, storage: &fieldStorage)
            else {
                if bytes.count >= limit { throw HTTP1ParseError.headersTooLarge }
                return .needMore
            }
            let head = try makeHead(bytes, fields: scanner.fields(fieldStorage))
            reset()
            return .complete(head)
        } catch {
            reset()
            throw error
        }
    }

    /// Scans `HTTP/d.d SP 3DIGIT SP reason CRLF`; true once the CRLF has been consumed.
    ///
    /// "HTTP/1.1 200\r\n" (no SP before an empty reason) is accepted: it is unambiguous and common.
    private mutating func scanStatusLine(
        _ base: UnsafePointer<UInt8>, _ end: Int
    ) throws(HTTP1ParseError) -> Bool {
        var p = position
        defer { position = p }
        while true {
            switch state {
            case .version:
                if p == 0 && end >= 9, base[8] == ByteClass.sp, let common = HTTPVersionSyntax.common(base) {
                    version = common
                    p = 9
                    state = .statusCode
                    continue
                }
                guard p < end else { return false }
                let b = base[p]
                if p == 8 {
                    guard b == ByteClass.sp else { throw .badResponse("invalid status line") }
                    guard base[5] == UInt8(ascii: "1") else {
                        throw .badResponse("unsupported HTTP version")
                    }
                    version = base[7] == UInt8(ascii: "0") ? .http10 : .http11
                    state = .statusCode
                } else if !HTTPVersionSyntax.accepts(b, at: p) {
                    throw .badResponse("invalid status line")
                }
                p += 1

            case .statusCode:
                guard p < end else { return false }
                let b = base[p]
                guard ByteClass.isDigit(b) else { throw .badResponse("invalid status code") }
                status = status * 10 + Int(b &- 0x30)
                p += 1
                if p == 12 {
                    guard status >= 100 && status <= 599 else {
                        throw .badResponse("invalid status code")
                    }
                    state = .afterStatus
                }

            case .afterStatus:
                guard p < end else { return false }
                let b = base[p]
                reasonStart = p + 1
                if b == ByteClass.cr {
                    reasonStart = p
                    reasonEnd = p
                    state = .statusLineFeed
                } else if b == ByteClass.sp {
                    state = .reason
                } else {
                    throw .badResponse("invalid status line")
                }
                p += 1

            case .reason:
                while p < end && ByteClass.isFieldValue(base[p]) { p += 1 }
                guard p < end else { return false }
                guard base[p] == ByteClass.cr else {
                    throw .badResponse(base[p] == ByteClass.lf ? "bare LF" : "invalid reason phrase")
                }
                reasonEnd = p
                p += 1
                state = .statusLineFeed

            case .statusLineFeed:
                guard p < end else { return false }
                guard base[p] == ByteClass.lf else { throw .badResponse("bare CR") }
                p += 1
                state = .fields
                return true

            case .fields:
                return true
            }
        }
    }

    /// RFC 9112 §6.1-§6.3 for responses: the only coding accepted is exactly `chunked`;
    /// Content-Length with Transfer-Encoding, differing Content-Lengths and Transfer-Encoding in
    /// an HTTP/1.0 response (faulty framing, §6.1) are refused.
    private func makeHead(
        _ buffer: UnsafeRawBufferPointer, fields: [HeaderField]
    ) throws(HTTP1ParseError) -> ResponseHead {
        let facts = try FramingFields(fields, buffer) { .badResponse($0) }
        if facts.hasTransferEncoding {
            if version.minor == 0 { throw .badResponse("Transfer-Encoding in HTTP/1.0") }
            if facts.hasContentLength {
                throw .badResponse("both Content-Length and Transfer-Encoding")
            }
            guard facts.codings.isChunkedOnly else {
                throw .badResponse("unsupported transfer coding")
            }
        }
        return ResponseHead(
            version: version, status: status, reason: ByteSpan(unchecked: reasonStart, reasonEnd),
            fields: fields, connectionClose: facts.connectionClose,
            connectionKeepAlive: facts.connectionKeepAlive, contentLength: facts.contentLength,
            isChunked: facts.hasTransferEncoding, headLength: position,
            connectionNamesOthers: facts.connectionNamesOthers)
    }
}
