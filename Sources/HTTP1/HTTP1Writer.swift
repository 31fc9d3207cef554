/// Serializes HTTP/1.1 message parts by appending bytes to a buffer.
///
/// The writer does not validate: callers pass names and values taken from parsed heads (already
/// checked) or from validated configuration. Every line ends with CRLF (README.md, "How requests are handled": messages are
/// re-framed, so no ambiguous bytes reach the other side).
public enum HTTP1Writer {
    // Byte arrays made once: appending a string literal's UTF-8 view on every call is far
    // slower than copying a few bytes.
    @usableFromInline static let requestLineSuffix: [UInt8] = Array(" HTTP/1.1\r\n".utf8)
    @usableFromInline static let statusLinePrefix: [UInt8] = Array("HTTP/1.1 ".utf8)

    /// Appends `METHOD SP target SP HTTP/1.1 CRLF`.
    @inlinable
    public static func requestLine(
        method: some Collection<UInt8>, target: some Collection<UInt8>, into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: method)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: target)
        buffer.append(contentsOf: HTTP1Writer.requestLineSuffix)
    }

    /// Appends `HTTP/1.1 SP status SP reason CRLF`; `status` must be 100...999.
    @inlinable
    public static func statusLine(
        status: Int, reason: some Collection<UInt8>, into buffer: inout [UInt8]
    ) {
        precondition(status >= 100 && status <= 999, "status out of range")
        buffer.append(contentsOf: HTTP1Writer.statusLinePrefix)
        buffer.append(UInt8(truncatingIfNeeded: 0x30 + status / 100))
        buffer.append(UInt8(truncatingIfNeeded: 0x30 + status / 10 % 10))
        buffer.append(UInt8(truncatingIfNeeded: 0x30 + status % 10))
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: reason)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends a status line with the standard reason phrase for `status` (see `reasonPhrase`).
    @inlinable
    public static func statusLine(status: Int, into buffer: inout [UInt8]) {
        reasonPhrase(for: status).withUTF8Buffer { statusLine(status: status, reason: $0, into: &buffer) }
    }

    /// Appends `name: value CRLF`.
    @inlinable
    public static func field(
        name: some Collection<UInt8>, value: some Collection<UInt8>, into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: name)
        buffer.append(UInt8(ascii: ":"))
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: value)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends `name: value CRLF` from strings (configuration-defined fields).
    @inlinable
    public static func field(name: String, value: String, into buffer: inout [UInt8]) {
        field(name: name.utf8, value: value.utf8, into: &buffer)
    }

    /// Appends `name: <decimal> CRLF`, e.g. Content-Length, without creating a String.
    @inlinable
    public static func field(name: some Collection<UInt8>, decimal: UInt64, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: name)
        buffer.append(UInt8(ascii: ":"))
        buffer.append(UInt8(ascii: " "))
        appendDecimal(decimal, into: &buffer)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends `name: value CRLF` where `value` may contain obs-fold (a parsed response field
    /// with `needsUnfolding`): each run of whitespace containing CR or LF becomes one SP
    /// (RFC 9112 §5.2), so the forwarded line has no line break inside it.
    @inlinable
    public static func unfoldedField(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: name)
        buffer.append(UInt8(ascii: ":"))
        buffer.append(UInt8(ascii: " "))
        let valueStart = buffer.count
        var inFold = false
        for b in value {
            if b == 0x0d || b == 0x0a {
                if !inFold {
                    while let last = buffer.last, buffer.count > valueStart, last == 0x20 || last == 0x09 {
                        buffer.removeLast()
                    }
                    inFold = true
                }
            } else if inFold {
                if b != 0x20 && b != 0x09 {
                    buffer.append(0x20)
                    buffer.append(b)
                    inFold = false
                }
            } else {
                buffer.append(b)
            }
        }
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends the CRLF that ends a head.
    @inlinable
    public static func endOfHead(into buffer: inout [UInt8]) {
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends a chunk size line: lowercase hex of `size` (> 0) and CRLF.
    @inlinable
    public static func chunkHeader(size: Int, into buffer: inout [UInt8]) {
        precondition(size > 0, "a chunk of size 0 is the last chunk")
        appendHex(UInt64(size), into: &buffer)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends the CRLF that follows a chunk's data.
    @inlinable
    public static func chunkEnd(into buffer: inout [UInt8]) {
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends the last chunk `0 CRLF`, the trailer fields, and the final CRLF.
    @inlinable
    public static func lastChunk(trailers: [TrailerField] = [], into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "0\r\n".utf8)
        for trailer in trailers { field(name: trailer.name, value: trailer.value, into: &buffer) }
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends the decimal digits of `value`.
    @inlinable
    public static func appendDecimal(_ value: UInt64, into buffer: inout [UInt8]) {
        withDigits(of: value, radix: 10) { buffer.append(contentsOf: $0) }
    }

    /// Appends the lowercase hexadecimal digits of `value`.
    @inlinable
    public static func appendHex(_ value: UInt64, into buffer: inout [UInt8]) {
        withDigits(of: value, radix: 16) { buffer.append(contentsOf: $0) }
    }

    /// Calls `body` with the digits of `value` in base 10 or 16 (lowercase), formed in a
    /// stack buffer: the one formatter behind every number a head or chunk line carries.
    @inlinable
    public static func withDigits<R>(
        of value: UInt64, radix: UInt64, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        precondition(radix == 10 || radix == 16)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 decimal digits
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var rest = value
            var index = raw.count
            repeat {
                index -= 1
                let digit = UInt8(truncatingIfNeeded: rest % radix)
                raw[index] = digit < 10 ? digit &+ 0x30 : digit &+ 0x57
                rest /= radix
            } while rest > 0
            return raw.count - index
        }
        return withUnsafeBytes(of: &digits) { raw in
            body(UnsafeRawBufferPointer(rebasing: raw[(raw.count - count)...]))
        }
    }
}
