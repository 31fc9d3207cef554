/// Incremental, strict parser of a request head (RFC 9112 §2-§6, README.md, "Strict parsing").
///
/// Call `parse` with the whole message received so far, starting at the same byte every time
/// (the same prefix plus new bytes; never move or change bytes already fed). The parser keeps
/// its position and line state, so every byte is examined once however the input is split.
/// After `.complete` or a thrown error it is ready for a new message; `reset()` abandons a
/// partial one. A thrown error means the connection must be closed after any error response.
public struct RequestHeadParser: Sendable {
    private enum State: UInt8, Sendable {
        case start
        case leadingLineFeed
        case method
        case target
        case version
        case requestLineFeed
        case fields
        /// Like `start`, after a message that failed once its request line was complete:
        /// `failedRequestLine` reports that line until the next message begins.
        case startAfterFailedHead
    }

    /// RFC 9112 §2.2 asks servers to ignore at least one empty line before a request line; a
    /// few are tolerated, more are refused so CRLF floods cannot hold a connection.
    static let maxLeadingEmptyLines = 8

    /// The limits this parser enforces.
    public let limits: HeadLimits
    // Every client connection holds a parser, so it is kept small: the one-byte fields
    // together, offsets as 32 bits (a head is below 2 GiB, `HeadLimits`), read and written
    // through the `Int` properties below.
    private var state = State.start
    private var method = HTTPMethod.other
    private var version = HTTPVersion.http11
    private var storedPosition: Int32 = 0
    private var storedMethodStart: Int32 = 0
    private var storedTargetStart: Int32 = 0
    private var storedTargetEnd: Int32 = 0
    private var storedVersionStart: Int32 = 0
    private var scanner = FieldSectionScanner(repairs: false)

    private var position: Int {
        get { Int(storedPosition) }
        set { storedPosition = Int32(truncatingIfNeeded: newValue) }
    }
    private var methodStart: Int {
        get { Int(storedMethodStart) }
        set { storedMethodStart = Int32(truncatingIfNeeded: newValue) }
    }
    private var targetStart: Int {
        get { Int(storedTargetStart) }
        set { storedTargetStart = Int32(truncatingIfNeeded: newValue) }
    }
    private var targetEnd: Int {
        get { Int(storedTargetEnd) }
        set { storedTargetEnd = Int32(truncatingIfNeeded: newValue) }
    }
    private var versionStart: Int {
        get { Int(storedVersionStart) }
        set { storedVersionStart = Int32(truncatingIfNeeded: newValue) }
    }

    /// Creates a parser for one connection.
    public init(limits: HeadLimits) {
        self.limits = limits
    }

    /// The method and request-target of the message `parse` last threw for, when its request
    /// line was complete and the error came after it (a header field, Host, framing, the
    /// head's size, CONNECT); nil when the request line itself was at fault.
    ///
    /// The spans index the buffer given to that `parse`. Read them right after the error: a
    /// `parse` that is given bytes, or `reset()`, clears them. Kept in the parser's state, so
    /// a successful parse pays nothing for it.
    public var failedRequestLine: (method: ByteSpan, target: ByteSpan)? {
        guard state == .startAfterFailedHead else { return nil }
        return (
            ByteSpan(unchecked: methodStart, targetStart - 1), ByteSpan(unchecked: targetStart, targetEnd)
        )
    }

    /// Forgets any partial message.
    public mutating func reset() {
        state = .start
        position = 0
        scanner.reset()
    }

    /// Continues parsing `bytes` (the whole message so far, see the type's contract).
    ///
    /// Returns `.needMore` until the blank line ending the head has arrived. Throws 400 for
    /// malformed input, 414 when the request line does not end within `maxHeaderBytes`, 431 when
    /// the head does not, 501 for CONNECT or an unimplemented transfer coding, 505 for an HTTP
    /// major version other than 1.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer
    ) throws(HTTP1ParseError) -> HeadParseResult<RequestHead> {
        var fieldStorage: [HeaderField] = []
        return try parse(bytes, fieldStorage: &fieldStorage)
    }

    /// `parse(_:)` with field storage lent by the caller: a loop passes the same array for
    /// every head it parses, so a head's field list is not a new allocation each time. The
    /// returned head shares that array's buffer; the next parse copies it only if the head
    /// is still alive.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer, fieldStorage: inout [HeaderField]
    ) throws(HTTP1ParseError) -> HeadParseResult<RequestHead> {
        let limit = limits.maxHeaderBytes
        let end = min(bytes.count, limit)
        guard position < end, let raw = bytes.baseAddress else {
            if bytes.count >= limit {
                let error = overflowError()
                resetAfterError()
                throw error
            }
            return .needMore
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        do throws(HTTP1ParseError) {
            if state != .fields {
                guard try scanRequestLine(base, end) else {
                    if bytes.count >= limit { throw overflowError() }
                    return .needMore
                }
            }
            var p = position
            let sectionEnded = try scanner.scan(base, &p, end, storage: &fieldStorage)
            position = p
            guard sectionEnded else {
                if bytes.count >= limit { throw HTTP1ParseError.headersTooLarge }
                return .needMore
            }
            let head = try makeHead(bytes, fields: scanner.fields(fieldStorage))
            reset()
            return .complete(head)
        } catch {
            resetAfterError()
            throw error
        }
    }

    /// `reset()` for a message that failed, remembering whether its request line was
    /// complete (the spans stay in `methodStart`, `targetStart`, `targetEnd`).
    private mutating func resetAfterError() {
        let requestLineComplete = state == .fields
        reset()
        if requestLineComplete { state = .startAfterFailedHead }
    }

    private func overflowError() -> HTTP1ParseError {
        state == .fields ? .headersTooLarge : .uriTooLong
    }

    /// Scans leading empty lines and the request line; true once its CRLF has been consumed.
    private mutating func scanRequestLine(
        _ base: UnsafePointer<UInt8>, _ end: Int
    ) throws(HTTP1ParseError) -> Bool {
        var p = position
        defer { position = p }
        while true {
            switch state {
            case .start, .startAfterFailedHead:
                guard p < end else { return false }
                let b = base[p]
                if ByteClass.isToken(b) {
                    methodStart = p
                    p += 1
                    state = .method
                } else if b == ByteClass.cr {
                    // Only empty lines come before the request line, CRLF each (a bare LF is
                    // refused), and the message starts at offset 0: p / 2 of them so far.
                    guard p / 2 < RequestHeadParser.maxLeadingEmptyLines else {
                        throw .badRequest("too many empty lines before request line")
                    }
                    p += 1
                    state = .leadingLineFeed
                } else if b == ByteClass.lf {
                    throw .badRequest("bare LF")
                } else {
                    throw .badRequest("invalid method")
                }

            case .leadingLineFeed:
                guard p < end else { return false }
                guard base[p] == ByteClass.lf else { throw .badRequest("bare CR") }
                p += 1
                state = .start

            case .method:
                p = ByteClass.skipToken(base, from: p, to: end, table: ByteClass.tokenTable)
                guard p < end else { return false }
                guard base[p] == ByteClass.sp else { throw .badRequest("invalid method") }
                method = HTTPMethod.recognize(base + methodStart, p - methodStart)
                p += 1
                targetStart = p
                state = .target

            case .target:
                while p < end && ByteClass.isTarget(base[p]) { p += 1 }
                guard p < end else { return false }
                let b = base[p]
                guard b == ByteClass.sp else { throw RequestHeadParser.targetError(b) }
                guard p > targetStart else { throw .badRequest("empty request target") }
                targetEnd = p
                p += 1
                versionStart = p
                state = .version

            case .version:
                if p == versionStart && p &+ 9 <= end, base[p &+ 8] == ByteClass.cr,
                    let common = HTTPVersionSyntax.common(base + p)
                {
                    version = common
                    p &+= 9
                    state = .requestLineFeed
                    continue
                }
                guard p < end else { return false }
                let b = base[p]
                let index = p - versionStart
                if index == 8 {
                    guard b == ByteClass.cr else {
                        throw .badRequest(b == ByteClass.lf ? "bare LF" : "invalid HTTP version")
                    }
                    version = try RequestHeadParser.checkVersion(base + versionStart)
                    state = .requestLineFeed
                } else if !HTTPVersionSyntax.accepts(b, at: index) {
                    throw .badRequest(b == ByteClass.lf ? "bare LF" : "invalid HTTP version")
                }
                p += 1

            case .requestLineFeed:
                guard p < end else { return false }
                guard base[p] == ByteClass.lf else { throw .badRequest("bare CR") }
                p += 1
                state = .fields
                if method == .connect { throw .notImplemented("CONNECT not supported") }
                return true

            case .fields:
                return true
            }
        }
    }

    private static func targetError(_ b: UInt8) -> HTTP1ParseError {
        switch b {
        case UInt8(ascii: "#"): return .badRequest("fragment in request target")
        case ByteClass.cr, ByteClass.lf: return .badRequest("malformed request line")
        default: return .badRequest("invalid character in request target")
        }
    }

    /// RFC 9110 §2.5: major 1 only (else 505); 1.x with x > 1 is served as 1.1.
    private static func checkVersion(_ v: UnsafePointer<UInt8>) throws(HTTP1ParseError) -> HTTPVersion {
        guard v[5] == UInt8(ascii: "1") else { throw .versionNotSupported }
        return v[7] == UInt8(ascii: "0") ? .http10 : .http11
    }

    /// Builds the head once the blank line has been seen; checks target form, Host and framing.
    private func makeHead(
        _ buffer: UnsafeRawBufferPointer, fields: [HeaderField]
    ) throws(HTTP1ParseError) -> RequestHead {
        let target = ByteSpan(unchecked: targetStart, targetEnd)
        let form = try RequestTargetForm(target, buffer, method: method)
        let facts = try FramingFields(fields, buffer) { .badRequest($0) }

        // RFC 9112 §3.2: a request with more than one Host, or an invalid one, is 400; so is an
        // HTTP/1.1 request without one. An empty Host in 1.1 is refused as well (README.md,
        // "Strict parsing").
        var host: ByteSpan?
        if facts.hostCount > 1 { throw .badRequest("repeated Host") }
        if facts.hostCount == 1 {
            if facts.host.isEmpty {
                if version.minor >= 1 { throw .badRequest("empty Host") }
            } else {
                guard RequestTarget.isValidHost(facts.host.bytes(in: buffer)) else {
                    throw .badRequest("invalid Host")
                }
                host = facts.host
            }
        } else if version.minor >= 1 {
            throw .badRequest("missing Host")
        }
        if let authority = form.authority { host = authority }

        let framing = try RequestHeadParser.framing(facts, version: version)
        return RequestHead(
            method: method,
            methodSpan: ByteSpan(unchecked: methodStart, targetStart - 1),
            target: target, targetForm: form.form, absoluteAuthority: form.authority,
            originTarget: form.originTarget, version: version, fields: fields,
            framing: framing, host: host, connectionClose: facts.connectionClose,
            connectionKeepAlive: facts.connectionKeepAlive,
            connectionUpgrade: facts.connectionUpgrade, expectContinue: facts.expectContinue,
            headLength: position, originTargetNeedsSlash: form.needsSlash,
            connectionNamesOthers: facts.connectionNamesOthers)
    }

    /// RFC 9112 §6.1-§6.3 for requests, strictest reading (README.md, "Strict parsing"):
    /// - Transfer-Encoding in HTTP/1.0 is faulty framing: 400.
    /// - Content-Length with Transfer-Encoding: 400 (smuggling).
    /// - A malformed or empty coding list: 400. A coding outside the registry (incl. "identity",
    ///   "xchunked"): 501. Otherwise chunked must appear once, last, or 400 (§6.3 rule 4).
    ///   Registered codings before it ("gzip, chunked"): 501, not implemented.
    private static func framing(
        _ facts: FramingFields, version: HTTPVersion
    ) throws(HTTP1ParseError) -> BodyFraming {
        guard facts.hasTransferEncoding else {
            if let length = facts.contentLength { return .contentLength(length) }
            return .none
        }
        if version.minor == 0 { throw .badRequest("Transfer-Encoding in HTTP/1.0") }
        if facts.hasContentLength { throw .badRequest("both Content-Length and Transfer-Encoding") }
        let codings = facts.codings
        if codings.isMalformed || codings.count == 0 { throw .badRequest("invalid Transfer-Encoding") }
        if codings.hasUnknown { throw .notImplemented("unknown transfer coding") }
        if codings.chunkedCount != 1 || !codings.lastIsChunked {
            throw .badRequest("chunked must be the final transfer coding, once")
        }
        if codings.count > 1 { throw .notImplemented("unsupported transfer coding") }
        return .chunked
    }
}

/// "HTTP/" DIGIT "." DIGIT, matched one byte at a time (RFC 9112 §2.3; the name is
/// case-sensitive).
enum HTTPVersionSyntax {
    /// "HTTP/1.1" and "HTTP/1.0" as little-endian words.
    static let http11Word: UInt64 = 0x312e_312f_5054_5448
    static let http10Word: UInt64 = 0x302e_312f_5054_5448

    /// The version when the eight bytes at `v` are exactly "HTTP/1.1" or "HTTP/1.0" (one
    /// comparison instead of eight byte checks); nil otherwise, and the byte-wise path
    /// decides, with its exact errors.
    @inline(__always)
    static func common(_ v: UnsafePointer<UInt8>) -> HTTPVersion? {
        let word = UInt64(littleEndian: UnsafeRawPointer(v).loadUnaligned(as: UInt64.self))
        if word == http11Word { return .http11 }
        if word == http10Word { return .http10 }
        return nil
    }

    @inline(__always)
    static func accepts(_ b: UInt8, at index: Int) -> Bool {
        switch index {
        case 0: return b == UInt8(ascii: "H")
        case 1, 2: return b == UInt8(ascii: "T")
        case 3: return b == UInt8(ascii: "P")
        case 4: return b == UInt8(ascii: "/")
        case 5, 7: return ByteClass.isDigit(b)
        case 6: return b == UInt8(ascii: ".")
        default: return false
        }
    }
}
