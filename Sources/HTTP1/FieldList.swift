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
    /// lowercase ASCII. Eight bytes are compared at a time (the last word overlaps the one
    /// before), with exact ASCII case folding of each word.
    @inlinable
    public static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer, _ lowercaseLiteral: StaticString
    ) -> Bool {
        let n = bytes.count
        guard n == lowercaseLiteral.utf8CodeUnitCount else { return false }
        guard let raw = bytes.baseAddress else { return true }
        let literal = UnsafeRawPointer(lowercaseLiteral.utf8Start)
        if n < 8 {
            for i in 0..<n {
                let b = raw.load(fromByteOffset: i, as: UInt8.self)
                let lower = b &- 0x41 < 26 ? b | 0x20 : b
                if lower != literal.load(fromByteOffset: i, as: UInt8.self) { return false }
            }
            return true
        }
        var i = 0
        while i &+ 8 < n {
            if lowercased(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                != literal.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            {
                return false
            }
            i &+= 8
        }
        return lowercased(raw.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self))
            == literal.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
    }

    /// ASCII lowercase of the eight bytes of `word` ('A'...'Z' gain 0x20; every other byte,
    /// obs-text included, is unchanged): each byte's high bit marks "at least 'A'" and "above
    /// 'Z'" after adding offsets to its low seven bits, which cannot carry into the next byte.
    @inlinable
    static func lowercased(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let low7 = word & (ones &* 0x7f)
        let atLeastA = low7 &+ (ones &* (0x80 - 0x41))
        let aboveZ = low7 &+ (ones &* (0x80 - 0x5b))
        let upper = atLeastA & ~aboveZ & ~word & (ones &* 0x80)
        return word | (upper &>> 2)
    }

    @inlinable
    static func isListSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0d || b == 0x0a
    }
}
