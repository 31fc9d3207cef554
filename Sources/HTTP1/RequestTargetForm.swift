/// The checked form of a request target (RFC 9112 §3.2; README.md, "Strict parsing").
struct RequestTargetForm {
    var form: TargetForm
    var authority: ByteSpan?
    var originTarget: ByteSpan
    var needsSlash = false

    /// Classifies `target` (already checked to be visible ASCII without '#').
    ///
    /// Accepted: origin-form starting with '/'; `*` with OPTIONS only; absolute-form with scheme
    /// `http` or `https` (any case, RFC 3986 §3.1) and a valid, non-empty authority without
    /// userinfo. Everything else is 400.
    init(
        _ target: ByteSpan, _ buffer: UnsafeRawBufferPointer, method: HTTPMethod
    ) throws(HTTP1ParseError) {
        let bytes = target.bytes(in: buffer)
        let first = bytes[0]
        if first == UInt8(ascii: "/") {
            form = .origin
            originTarget = target
            return
        }
        if first == UInt8(ascii: "*") {
            guard bytes.count == 1 else { throw .badRequest("invalid request target") }
            guard method == .options else { throw .badRequest("asterisk target without OPTIONS") }
            form = .asterisk
            originTarget = target
            return
        }
        let schemeLength: Int
        if RequestTargetForm.hasPrefix(bytes, "http://") {
            schemeLength = 7
        } else if RequestTargetForm.hasPrefix(bytes, "https://") {
            schemeLength = 8
        } else {
            throw .badRequest("invalid request target")
        }
        var authorityEnd = schemeLength
        while authorityEnd < bytes.count {
            let b = bytes[authorityEnd]
            if b == UInt8(ascii: "/") || b == UInt8(ascii: "?") { break }
            authorityEnd += 1
        }
        let authorityBytes = UnsafeRawBufferPointer(rebasing: bytes[schemeLength..<authorityEnd])
        guard RequestTarget.isValidHost(authorityBytes) else {
            throw .badRequest("invalid authority in request target")
        }
        let start = Int(target.start)
        form = .absolute
        authority = ByteSpan(unchecked: start + schemeLength, start + authorityEnd)
        originTarget = ByteSpan(unchecked: start + authorityEnd, Int(target.end))
        needsSlash = authorityEnd == bytes.count || bytes[authorityEnd] == UInt8(ascii: "?")
    }

    private static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        let n = lowercase.utf8CodeUnitCount
        guard bytes.count >= n else { return false }
        return FieldList.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<n]), lowercase)
    }
}
