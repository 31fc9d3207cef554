/// Helpers for list-valued fields (RFC 9110 §5.6.1) such as Connection and Transfer-Encoding.
public enum FieldList {
    /// Calls `body` with each non-empty element of a comma-separated field value, as a range of
    /// offsets into `value` with surrounding whitespace removed.
    ///
    /// Empty elements are skipped, as RFC 9110 §5.6.1 requires of recipients. CR and LF count as
    /// whitespace so folded response values (RFC 9112 §5.2) split the same way. Commas inside
    /// quoted strings are not special: use this only for fields whose elements are tokens.
    @inlinable
    public static func forEachElement<E: Error>(
        in value: UnsafeRawBufferPointer, _ body: (Range<Int>) throws(E) -> Void
    ) throws(E) {
        var i = 0
        let n = value.count
        while i < n {
            while i < n && isListSpace(value[i]) { i += 1 }
            let start = i
            while i < n && value[i] != UInt8(ascii: ",") { i += 1 }
            var end = i
            while end > start && isListSpace(value[end - 1]) { end -= 1 }
            if end > start { try body(start..<end) }
            i += 1
        }
    }

    /// True when `bytes` equals `lowercaseLiteral` ignoring ASCII case; the literal must be
    /// lowercase ASCII.
    @inlinable
    public static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer, _ lowercaseLiteral: StaticString
    ) -> Bool {
        guard bytes.count == lowercaseLiteral.utf8CodeUnitCount else { return false }
        let lit = lowercaseLiteral.utf8Start
        for i in 0..<bytes.count {
            let b = bytes[i]
            let lower = b &- 0x41 < 26 ? b | 0x20 : b
            if lower != lit[i] { return false }
        }
        return true
    }

    @inlinable
    static func isListSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0d || b == 0x0a
    }
}
